"""The world model: frozen records of what a bundle declares (`bundle`: workloads, Services, NetworkPolicies; `admin`:
AdminNetworkPolicies; `routes`: Ingress/Route/Gateway entry points; `unevaluated`: policy kinds read but not
evaluated), what the verifier concludes about it (`records`: dependencies and findings, and the names of the file
that declares dependencies), and the error types (`errors`).

Every other layer reads these; they import nothing else of the verifier.
"""
