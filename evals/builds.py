"""A generated scenario by template name: one of the generator's templates, or a scale tier (`tiered`).

Above both `generator` and `tiers` (which composes the generator's templates), so neither imports the other back.
"""

from __future__ import annotations

from .generator import Generated, build_template
from .tiers import compose


def build(template: str, seed: int, workloads: int) -> Generated:
    """The scenario `template` with `seed`, padded with filler to `workloads` workloads; `tiered` is a tier
    of that many workloads composed of many templates (`tiers.compose`).

    Raises:
        KeyError: no such template (the message lists them).
    """
    if template == "tiered":
        return compose(seed, workloads)
    return build_template(template, seed, workloads)
