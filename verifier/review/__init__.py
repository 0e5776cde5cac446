"""The review: findings (`findings`) from the rules in `rules/`, fixes as data (`fixes`), policies written back as
manifests and patches (`policy_manifest`), workloads exposed outside the cluster (`exposure`), and what a change
does (`diff`).

Imports the model, input, sets, engine and deps layers.
"""
