"""The default-deny rollout: the verified plan, one namespace at a time (`plan`), and the probes that prove it enforced
(`probes`).

Imports every layer below it except claims.
"""
