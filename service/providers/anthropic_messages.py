"""Anthropic through the official `anthropic` SDK: the Messages API with the answer schema as a forced tool.

Mode "tool" (default) declares one tool whose `input_schema` is the answer schema and forces it with
`tool_choice={"type": "tool", "name": ...}`; the answer is that tool_use block's `input`. Mode
"output_format" uses structured outputs instead (`output_config.format` = json_schema) and reads the text.
The installed SDK no longer exposes `temperature` on messages.create, so none is sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any, Literal

import anthropic

from .base import ProviderReply, ProviderRequest, Usage, tool_name
from .errors import (
    MALFORMED_BODY_ERRORS,
    MissingApiKey,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderRateLimited,
    ProviderRequestRejected,
    ProviderTimeout,
    ProviderUnavailable,
    malformed_reply,
)
from .loopclient import LoopBoundClient
from .retry import AttemptLog, Clock, RetryPolicy, Sleep, parse_retry_after, timed_with_retries
from .structured import parse_json_object

AnthropicMode = Literal["tool", "output_format"]


class AnthropicProvider:
    """A Claude model (`anthropic:MODEL`). Key from `api_key` or ANTHROPIC_API_KEY, URL from ANTHROPIC_BASE_URL."""

    provider_name = "anthropic"

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        mode: AnthropicMode = "tool",
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.model = model
        self._api_key = api_key or os.environ.get("ANTHROPIC_API_KEY") or ""
        if not self._api_key:
            raise MissingApiKey(self.provider_name, "ANTHROPIC_API_KEY")
        if mode not in ("tool", "output_format"):
            raise ProviderConfigError(f"unknown Anthropic mode {mode!r}: use 'tool' or 'output_format'")
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        self.mode = mode
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._clients = LoopBoundClient(
            lambda: anthropic.AsyncAnthropic(api_key=self._api_key, base_url=self.base_url, max_retries=0))

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        """Send `request` to the Messages API; see `Provider.complete`.

        Raises:
            ProviderError: the mapped SDK failure once retries are exhausted.
        """
        return await timed_with_retries(lambda log: self._attempt(request, log), self._retry, self._sleep, self._clock)

    async def _attempt(self, request: ProviderRequest, log: AttemptLog) -> ProviderReply:
        try:
            message = await self._client_once().messages.create(**self._params(request), timeout=request.timeout_s)
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc, self.provider_name) from exc
        except MALFORMED_BODY_ERRORS as exc:
            raise malformed_reply(exc, self.provider_name) from exc
        try:
            return self._reply(message, request)
        except MALFORMED_BODY_ERRORS as exc:
            raise malformed_reply(exc, self.provider_name) from exc

    def _client_once(self) -> anthropic.AsyncAnthropic:
        return self._clients.get()

    async def aclose(self) -> None:
        """Close the SDK client's connections (optional; they are also dropped with the provider)."""
        await self._clients.aclose()

    def _params(self, request: ProviderRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        schema = dict(request.json_schema) if request.json_schema is not None else None
        if schema is not None and self.mode == "tool":
            name = tool_name(request)
            params["tools"] = [{"name": name, "description": "Record the answer.", "input_schema": schema}]
            params["tool_choice"] = {"type": "tool", "name": name}
        elif schema is not None:
            params["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        return params

    def _reply(self, message: Any, request: ProviderRequest) -> ProviderReply:
        tool_input = _tool_input(message.content, tool_name(request))
        data: dict[str, Any] | None = tool_input
        if tool_input is not None:
            text = json.dumps(tool_input)
        else:
            text = "".join(getattr(b, "text", "") for b in message.content if b.type == "text")
            data = parse_json_object(text)
        return ProviderReply(
            text=text,
            data=data,
            model=message.model or self.model,
            provider=self.provider_name,
            usage=Usage(message.usage.input_tokens or 0, message.usage.output_tokens or 0),
        )


def _tool_input(blocks: list[Any], name: str) -> dict[str, Any] | None:
    for block in blocks:
        if block.type == "tool_use" and block.name == name and isinstance(block.input, dict):
            return dict(block.input)
    return None


def map_anthropic_error(exc: Exception, provider: str) -> ProviderError:
    """Translate an `anthropic` SDK exception into the matching `ProviderError` subclass."""
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderTimeout("no answer before the request timeout", provider=provider)
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderUnavailable(f"cannot connect: {exc}", provider=provider)
    if isinstance(exc, anthropic.APIStatusError):
        return _map_status(exc, provider)
    return ProviderConfigError(str(exc), provider=provider)


def _map_status(exc: anthropic.APIStatusError, provider: str) -> ProviderError:
    status = exc.status_code
    message = exc.api_message or exc.message
    if status == 429:
        retry_after = parse_retry_after(dict(exc.response.headers))
        return ProviderRateLimited(message, retry_after=retry_after, provider=provider)
    if status in (401, 403):
        return ProviderAuthError(f"key refused (HTTP {status}): {message}", provider=provider, status=status)
    # 529 is Anthropic's "overloaded"; 408/409 are transient too.
    if status >= 500 or status in (408, 409):
        return ProviderUnavailable(f"HTTP {status}: {message}", provider=provider, status=status)
    return ProviderRequestRejected(f"HTTP {status}: {message}", provider=provider, status=status)
