"""The price table (`service/prices.yaml`): USD per million input and output tokens, per model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from verifier.model.errors import InputError

PRICES_FILE = Path(__file__).resolve().parent / "prices.yaml"


def load_prices(path: Path | None = None) -> dict[str, dict[str, float]]:
    """The price table at `path` (default `service/prices.yaml`).

    Raises:
        InputError: unreadable, or an entry that is not `{input: N, output: N}`.
    """
    path = path or PRICES_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read the price table: {exc}") from None
    table: dict[str, dict[str, float]] = {}
    for model, entry in data.items():
        if not isinstance(entry, dict) or set(entry) - {"input", "output"}:
            raise InputError(f"{path}: {model}: expected {{input: USD per 1M tokens, output: USD per 1M tokens}}")
        table[str(model)] = {k: float(v) for k, v in entry.items()}
    return table


def price_for(prices: Mapping[str, Any], spec: str) -> dict[str, float] | None:
    """The entry for model spec `spec`: exact spec first, then the model name after the prefix."""
    if spec in prices:
        return dict(prices[spec])
    name = spec.split(":", 1)[-1].rsplit("#", 1)[-1]
    return dict(prices[name]) if name in prices else None
