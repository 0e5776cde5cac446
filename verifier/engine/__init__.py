"""The evaluator: a bundle compiled into classes and grants (`compile`, with the admin tiers in `admin_compile`),
all-pairs connectivity as bit sets (`connectivity`, outside egress in `admin_external`), one pair with its reasons
read directly from the policies (`explain`, `admin_explain`: the reference the property tests compare against), and
plain-data views of the results (`export`, `exposure_report`).

Imports the model and the sets; never the input, deps, review, rollout or claims layers.
"""
