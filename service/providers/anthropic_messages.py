"""Anthropic through the official `anthropic` SDK: the Messages API with the answer schema as a forced tool.

Mode "tool" (default) declares one tool whose `input_schema` is the answer schema and forces it with
`tool_choice={"type": "tool", "name": ...}`; the answer is that tool_use block's `input`. Mode
"output_format" uses structured outputs instead (`output_config.format` = json_schema) and reads the text.
The installed SDK no longer exposes `temperature` on messages.create, so none is sent.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Literal

import anthropic

from .base import ProviderReply, ProviderRequest, Usage, tool_name
from .errors import ProviderConfigError, ProviderError
from .retry import AttemptLog, Clock, RetryPolicy, Sleep
from .sdk import SdkProvider, map_http_status, map_sdk_error
from .structured import parse_json_object

AnthropicMode = Literal["tool", "output_format"]


class AnthropicProvider(SdkProvider):
    """A Claude model (`anthropic:MODEL`). Key from `api_key` or ANTHROPIC_API_KEY, URL from ANTHROPIC_BASE_URL."""

    provider_name = "anthropic"
    key_env = "ANTHROPIC_API_KEY"
    base_url_env = "ANTHROPIC_BASE_URL"
    sdk_error = anthropic.AnthropicError

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
        super().__init__(model, api_key=api_key, base_url=base_url, retry=retry, sleep=sleep, clock=clock)
        if mode not in ("tool", "output_format"):
            raise ProviderConfigError(f"unknown Anthropic mode {mode!r}: use 'tool' or 'output_format'")
        self.mode = mode

    def _make_client(self) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(api_key=self._api_key, base_url=self.base_url, max_retries=0)

    def map_error(self, exc: Exception) -> ProviderError:
        return map_anthropic_error(exc, self.provider_name)

    async def _attempt(self, request: ProviderRequest, log: AttemptLog) -> ProviderReply:
        params = self._params(request)
        return await self._call(lambda: self._client_once().messages.create(**params, timeout=request.timeout_s),
                                lambda message: self._reply(message, request))

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
    return map_sdk_error(exc, provider, timeout=anthropic.APITimeoutError, connection=anthropic.APIConnectionError,
                         status=anthropic.APIStatusError,
                         on_status=lambda e: map_http_status(e.status_code, e.api_message or e.message,
                                                             e.response.headers, provider))
