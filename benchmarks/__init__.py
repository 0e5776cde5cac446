"""Benchmarks for the verifier: a synthetic cluster generator and a timing harness.

Not part of the installed distribution; run from the repository root (see README.md).
"""
