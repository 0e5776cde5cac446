"""The set algebra the evaluator is built on: label selectors (`selectors`), port sets and atoms (`ports`), IP address
sets, ipBlock matching and the IP formats the API server accepts (`addresses`).

Imports only the model.
"""
