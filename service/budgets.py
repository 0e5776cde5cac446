"""How much a model can read and write in one call: the prompt budget that decides how a cluster is sliced.

A budget is a context window and an output limit, in tokens. Known models have defaults (vendors' published
limits); anything else gets `DEFAULT_BUDGET`, sized for a local model served with a 32k context. Override with
`--budget CONTEXT[:OUTPUT]` or `NETREASON_MODEL_BUDGET`. Tokens are estimated as characters / 4, the usual
rule of thumb for English and JSON; the estimate is what slices are planned with, the provider's own count is
what is reported after the call.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from verifier.model.errors import InputError

#: One slice never asks more than this many input tokens even of a model with a larger window: answers over
#: very long prompts get worse, and a mistake costs less in a smaller slice.
MAX_SLICE_INPUT_TOKENS = 100_000
#: Output tokens a claim takes on average (JSON keys, ids, a one-sentence reason).
TOKENS_PER_CLAIM = 60
#: Output tokens of the summary and the JSON around the claims.
ANSWER_OVERHEAD_TOKENS = 150
ENV_VAR = "NETREASON_MODEL_BUDGET"


class BudgetError(InputError):
    """A budget setting that cannot be read."""


@dataclass(frozen=True)
class Budget:
    """A model's context window and output limit (tokens), and where the figures came from."""

    context_tokens: int
    output_tokens: int
    source: str

    @property
    def input_tokens(self) -> int:
        """Tokens a slice's prompt may use: the window minus the answer's room, capped per slice."""
        return max(1_000, min(self.context_tokens - self.output_tokens, MAX_SLICE_INPUT_TOKENS))

    @property
    def claims(self) -> int:
        """Claims one answer can hold within the output limit."""
        return max(1, (self.output_tokens - ANSWER_OVERHEAD_TOKENS) // TOKENS_PER_CLAIM)

    def to_json(self) -> dict[str, object]:
        return {"context_tokens": self.context_tokens, "output_tokens": self.output_tokens,
                "input_tokens_per_slice": self.input_tokens, "source": self.source}


#: (pattern on the model name, context window, output limit). First match wins.
KNOWN: tuple[tuple[str, int, int], ...] = (
    (r"gpt-4\.1", 1_047_576, 32_768),
    (r"gpt-4o", 128_000, 16_384),
    (r"gpt-5", 400_000, 128_000),
    (r"^o\d", 200_000, 100_000),
    (r"claude-(opus|sonnet)", 200_000, 64_000),
    (r"claude-haiku", 200_000, 64_000),
    (r"claude", 200_000, 8_192),
)
#: Local models and anything unknown: a 32k context window, 4k tokens out.
DEFAULT_BUDGET = Budget(32_768, 4_096, "default (unknown model: 32k context, 4k output)")


def estimate_tokens(chars: int) -> int:
    return (chars + 3) // 4


def budget_for(spec: str | None, setting: str | None = None) -> Budget:
    """The budget for model `spec`: `setting` (flag) first, then $NETREASON_MODEL_BUDGET, then the table.

    Raises:
        BudgetError: a setting that is not `CONTEXT[:OUTPUT]` with positive integers (k suffix allowed).
    """
    for value, where in ((setting, "--budget"), (os.environ.get(ENV_VAR), ENV_VAR)):
        if value:
            return _parse(value, where)
    name = (spec or "").split(":", 1)[-1].rsplit("#", 1)[-1].lower()
    for pattern, context, output in KNOWN:
        if re.search(pattern, name):
            return Budget(context, output, f"known model {name}")
    return DEFAULT_BUDGET


def _parse(value: str, where: str) -> Budget:
    parts = value.strip().lower().split(":")
    try:
        numbers = [_tokens(p) for p in parts]
    except ValueError:
        numbers = []
    if len(parts) > 2 or not numbers or min(numbers) <= 0:
        raise BudgetError(f"{where}: {value!r} is not CONTEXT[:OUTPUT] in tokens, e.g. 32000:4000 or 128k:16k")
    context = numbers[0]
    output = numbers[1] if len(numbers) > 1 else max(1_024, context // 8)
    if output >= context:
        raise BudgetError(f"{where}: the output limit {output} must be smaller than the context {context}")
    return Budget(context, output, f"{where} {value}")


def _tokens(text: str) -> int:
    text = text.strip()
    return int(float(text[:-1]) * 1_000) if text.endswith("k") else int(text)
