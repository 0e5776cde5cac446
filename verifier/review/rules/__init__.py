"""The review rules behind `verifier.review.findings.lint`, one module per concern.

`catalog` lists every rule id with its help text; each other module holds the checks of one
concern and returns `Finding`s. Rules are pure functions of a `LintContext`.
"""

from .catalog import RULES, RULES_BY_ID, SEVERITY_ORDER, RuleInfo

__all__ = ["RULES", "RULES_BY_ID", "SEVERITY_ORDER", "RuleInfo"]
