"""Prompts as data: versioned YAML prompt files and the loader that renders them."""

from __future__ import annotations

from .library import (
    PromptError,
    PromptSpec,
    RenderedPrompt,
    UnknownPrompt,
    list_prompts,
    load_prompt,
)

__all__ = ["PromptError", "PromptSpec", "RenderedPrompt", "UnknownPrompt", "list_prompts", "load_prompt"]
