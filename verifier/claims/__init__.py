"""A model's answer checked against the truth: its schema (`schema`), tolerant parsing (`answers`) and the check of
every claim (`check`).

Imports the model, the sets, the engine and deps.
"""
