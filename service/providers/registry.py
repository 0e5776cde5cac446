"""Model spec strings → providers. `prefix:rest` picks a factory; SDKs are imported only when chosen.

    openai:gpt-4.1-mini                                  OpenAI Chat Completions
    anthropic:claude-sonnet-5-5                          Anthropic Messages
    openai-compatible:http://localhost:11434/v1#llama3.1 any OpenAI-compatible server (URL#MODEL)
    ollama:llama3.1                                      the same, at $NETREASON_OLLAMA_URL (default localhost:11434/v1)
    langchain:LABEL                                      a BaseChatModel passed as chat_model=
    scripted:NAME                                        queued replies (replies=, responder=)
    simulated:MODE                                       the eval suite's simulated models (labelled simulated)

Other prefixes are added with `register_provider`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .base import Provider
from .errors import ProviderConfigError

#: Called as `factory(rest_of_spec, **overrides)`.
ProviderFactory = Callable[..., Provider]

MODEL_ENV = "NETREASON_MODEL"


def _openai(model: str, **overrides: Any) -> Provider:
    from .openai_chat import OpenAIChatProvider

    return OpenAIChatProvider(_require(model, "openai:gpt-4.1-mini"), **overrides)


def _anthropic(model: str, **overrides: Any) -> Provider:
    from .anthropic_messages import AnthropicProvider

    return AnthropicProvider(_require(model, "anthropic:claude-sonnet-5-5"), **overrides)


def _openai_compatible(rest: str, **overrides: Any) -> Provider:
    from .openai_compatible import OpenAICompatibleProvider

    url, sep, model = rest.rpartition("#")
    if not sep or not url or not model:
        raise ProviderConfigError(
            f"openai-compatible spec {rest!r} needs BASE_URL#MODEL, "
            "e.g. 'openai-compatible:http://localhost:11434/v1#llama3.1'"
        )
    overrides.setdefault("base_url", url)
    return OpenAICompatibleProvider(model, **overrides)


#: Where `ollama:MODEL` points unless NETREASON_OLLAMA_URL says otherwise: Ollama's OpenAI-compatible API.
OLLAMA_URL_ENV = "NETREASON_OLLAMA_URL"
DEFAULT_OLLAMA_URL = "http://localhost:11434/v1"


def _ollama(model: str, **overrides: Any) -> Provider:
    """`ollama:llama3.1` is `openai-compatible:http://localhost:11434/v1#llama3.1` (URL overridable)."""
    base = os.environ.get(OLLAMA_URL_ENV) or DEFAULT_OLLAMA_URL
    return _openai_compatible(f"{base}#{_require(model, 'ollama:llama3.1')}", **overrides)


def _langchain(label: str, **overrides: Any) -> Provider:
    from .langchain_adapter import LangChainProvider

    chat_model = overrides.pop("chat_model", None)
    if chat_model is None:
        raise ProviderConfigError("'langchain:' specs need the model instance: get_provider(spec, chat_model=...)")
    return LangChainProvider(chat_model, label=label or None, **overrides)


def _simulated(mode: str, **_: Any) -> Provider:
    from .simulated import SimulatedProvider

    return SimulatedProvider(mode)


def _scripted(name: str, **overrides: Any) -> Provider:
    from .scripted import ScriptedProvider

    return ScriptedProvider(overrides.pop("replies", ()), model=name or "script", **overrides)


_FACTORIES: dict[str, ProviderFactory] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "openai-compatible": _openai_compatible,
    "ollama": _ollama,
    "langchain": _langchain,
    "scripted": _scripted,
    "simulated": _simulated,
}


def register_provider(prefix: str, factory: ProviderFactory, *, replace: bool = False) -> None:
    """Make `prefix:REST` specs build providers with `factory(REST, **overrides)`.

    Raises:
        ProviderConfigError: `prefix` is already registered and `replace` is False, or it contains ':'.
    """
    if not prefix or ":" in prefix:
        raise ProviderConfigError(f"provider prefix {prefix!r} must be non-empty and contain no ':'")
    if prefix in _FACTORIES and not replace:
        raise ProviderConfigError(f"provider prefix {prefix!r} is already registered; pass replace=True")
    _FACTORIES[prefix] = factory


def registered_prefixes() -> list[str]:
    """The spec prefixes `get_provider` understands, sorted."""
    return sorted(_FACTORIES)


def parse_spec(spec: str) -> tuple[str, str]:
    """Split `prefix:rest` (rest may itself contain ':', as URLs do).

    Raises:
        ProviderConfigError: no prefix, or an unregistered one.
    """
    prefix, sep, rest = spec.strip().partition(":")
    if not sep:
        raise ProviderConfigError(f"model spec {spec!r} has no provider prefix; expected e.g. 'openai:gpt-4.1-mini', "
                                  f"or 'ollama:{spec.strip()}' for a local Ollama model")
    if prefix not in _FACTORIES:
        known = ", ".join(registered_prefixes())
        raise ProviderConfigError(f"unknown provider {prefix!r} in model spec {spec!r}; known: {known}")
    return prefix, rest


def get_provider(spec: str | None = None, **overrides: Any) -> Provider:
    """Build the provider named by `spec`, or by the NETREASON_MODEL environment variable when spec is None.

    `overrides` go to the provider's constructor (api_key, base_url, retry, sleep, clock, ...).

    Raises:
        ProviderConfigError: no spec anywhere, a malformed or unknown spec, or a missing API key.
    """
    spec = spec or os.environ.get(MODEL_ENV)
    if not spec:
        raise ProviderConfigError(
            f"no model chosen: set {MODEL_ENV} (e.g. {MODEL_ENV}=openai:gpt-4.1-mini) or pass a model spec"
        )
    prefix, rest = parse_spec(spec)
    return _FACTORIES[prefix](rest, **overrides)


def _require(model: str, example: str) -> str:
    if not model:
        raise ProviderConfigError(f"model spec needs a model name after the colon, e.g. {example!r}")
    return model
