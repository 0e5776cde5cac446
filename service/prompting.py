"""Rendering a library prompt for a bundle: brief, redaction and pseudonyms in one place.

This is the one path from a parsed bundle to model-bound text: the brief is built here
(never handed in), caller-supplied text is redacted against the bundle's env values and
annotations, and with `anonymize=True` everything goes through one `Pseudonyms` mapping
that the caller keeps to map the answer back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prompts.library import PromptError, RenderedPrompt, load_prompt
from verifier.deps.declared import DependencyInput, as_dependency
from verifier.model.bundle import Bundle

from .brief import BriefLines, render_brief
from .redact import Pseudonyms, redact_text


@dataclass(frozen=True)
class PreparedPrompt:
    """A rendered prompt plus the pseudonyms it was rendered with (None unless anonymized)."""

    rendered: RenderedPrompt
    pseudonyms: Pseudonyms | None = None

    def deanonymize(self, answer: Any) -> Any:
        """Map a model's answer (parsed JSON) back to real names; identity when not anonymized."""
        return self.pseudonyms.deanonymize(answer) if self.pseudonyms else answer


def prepare_prompt(
    ref: str,
    bundle: Bundle,
    dependencies: Iterable[DependencyInput] = (),
    *,
    anonymize: bool = False,
    **variables: object,
) -> PreparedPrompt:
    """Render prompt `ref` (`flows`, `review@1`...) for `bundle`.

    The prompt's `brief` variable is filled from the bundle and dependencies; other
    variables come from the caller, redacted (and pseudonymized when `anonymize`).

    Raises:
        UnknownPrompt: no such prompt.
        PromptError: a variable is missing or unknown, or `brief` was passed in.
    """
    return prepare_prompt_with(ref, bundle, dependencies, variables, anonymize=anonymize)


def prepare_prompt_with(ref: str, bundle: Bundle, dependencies: Iterable[DependencyInput],
                        variables: Mapping[str, object], *, anonymize: bool = False,
                        brief_lines: BriefLines | None = None) -> PreparedPrompt:
    """`prepare_prompt`, reusing the brief lines of objects already rendered into another brief (`brief_lines`,
    see `render_brief`): a prompt planned in slices shows each object in several briefs.

    Raises:
        UnknownPrompt: no such prompt.
        PromptError: a variable is missing or unknown, or `brief` was passed in.
    """
    spec = load_prompt(ref)
    if "brief" in variables:
        raise PromptError(f"{spec.ref}: brief is built from the bundle; do not pass it")
    deps = [as_dependency(d) for d in dependencies]
    pseudonyms = Pseudonyms.for_bundle(bundle, deps) if anonymize else None
    values = {k: redact_text(str(v), bundle) for k, v in variables.items()}
    if pseudonyms is not None:
        values = {k: pseudonyms.anonymize_text(v) for k, v in values.items()}
        bundle, deps = pseudonyms.bundle(bundle), [pseudonyms.dependency(d) for d in deps]
    if "brief" in spec.variables:
        values["brief"] = render_brief(bundle, deps, lines=brief_lines)
    return PreparedPrompt(spec.render(**values), pseudonyms)
