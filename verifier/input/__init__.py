"""Manifests in, a validated `Bundle` out: reading files (`load`, the only module that does), parsing YAML/JSON with
line numbers (`parse`, `construct`, `documents`), the API server's validation (`validate`, `admin_validate`,
`fieldcheck`, `naming`), model records with the API's defaults (`objects`), owners folding Pods into workloads
(`owners`), and assembling the bundle (`assemble`).

Imports the model and the sets; never the engine.
"""
