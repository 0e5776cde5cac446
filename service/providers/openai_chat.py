"""OpenAI through the official `openai` SDK: Chat Completions with a strict JSON-schema response format.

`OpenAICompatibleProvider` (openai_compatible.py) reuses this transport for Ollama, vLLM and LM Studio.
SDK types stay in these two files; everything leaving them is a `ProviderReply` or a `ProviderError`.
"""

from __future__ import annotations

from typing import Any

import openai

from .base import ProviderReply, ProviderRequest, Usage, system_with_schema, tool_name
from .errors import ProviderConfigError, ProviderError
from .retry import AttemptLog
from .sdk import SdkProvider, map_http_status, map_sdk_error
from .structured import parse_json_object

#: Response formats from most to least constrained; "none" sends no response_format at all.
FORMATS = ("json_schema", "json_object", "none")

# Reasoning models accept only their default temperature and reject any other value with a 400.
_FIXED_TEMPERATURE_PREFIXES = ("o1", "o3", "o4", "gpt-5")


class OpenAIChatProvider(SdkProvider):
    """A model served by the OpenAI API (`openai:MODEL`).

    The key comes from `api_key` or OPENAI_API_KEY, the base URL from `base_url` or OPENAI_BASE_URL.
    The SDK's own retries are off; `retry` governs every retry.
    """

    provider_name = "openai"
    key_env = "OPENAI_API_KEY"
    base_url_env = "OPENAI_BASE_URL"
    sdk_error = openai.OpenAIError

    def _make_client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(api_key=self._api_key, base_url=self.base_url, max_retries=0)

    def map_error(self, exc: Exception) -> ProviderError:
        return map_openai_error(exc, self.provider_name)

    async def _attempt(self, request: ProviderRequest, log: AttemptLog) -> ProviderReply:
        return await self._send(request, "json_schema" if request.json_schema is not None else "none")

    async def _send(self, request: ProviderRequest, response_format: str) -> ProviderReply:
        params = self._params(request, response_format)
        return await self._call(
            lambda: self._client_once().chat.completions.create(**params, timeout=request.timeout_s), self._reply)

    def _request_headers(self) -> dict[str, Any]:
        return {}

    def _params(self, request: ProviderRequest, response_format: str) -> dict[str, Any]:
        system = request.system if response_format == "json_schema" else system_with_schema(request)
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}]
            + [{"role": m.role, "content": m.content} for m in request.messages],
            **self._token_limit(request),
        }
        if request.temperature is not None and not self.model.startswith(_FIXED_TEMPERATURE_PREFIXES):
            params["temperature"] = request.temperature
        if response_format != "none":
            params["response_format"] = _response_format(request, response_format)
        if headers := self._request_headers():
            params["extra_headers"] = headers
        return params

    def _token_limit(self, request: ProviderRequest) -> dict[str, int]:
        # The OpenAI API deprecated `max_tokens` for `max_completion_tokens`; reasoning models reject the old name.
        return {"max_completion_tokens": request.max_tokens}

    def _reply(self, completion: Any) -> ProviderReply:
        message = completion.choices[0].message if completion.choices else None
        text = (message.content or message.refusal or "") if message is not None else ""
        if not isinstance(text, str):
            raise TypeError(f"message content is a {type(text).__name__}, not text")
        usage = completion.usage
        return ProviderReply(
            text=text,
            data=parse_json_object(text),
            model=completion.model or self.model,
            provider=self.provider_name,
            usage=Usage(
                (usage.prompt_tokens or 0) if usage else 0,
                (usage.completion_tokens or 0) if usage else 0,
            ),
        )


def _response_format(request: ProviderRequest, kind: str) -> dict[str, Any]:
    if kind == "json_object":
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": {
            "name": tool_name(request),
            "schema": dict(request.json_schema or {}),
            "strict": request.strict_schema,
        },
    }


def map_openai_error(exc: Exception, provider: str) -> ProviderError:
    """Translate an `openai` SDK exception into the matching `ProviderError` subclass."""
    return map_sdk_error(exc, provider, timeout=openai.APITimeoutError, connection=openai.APIConnectionError,
                         status=openai.APIStatusError, on_status=lambda e: _map_status(e, provider))


def _map_status(exc: openai.APIStatusError, provider: str) -> ProviderError:
    if exc.status_code == 429 and exc.code == "insufficient_quota":
        quota = f"quota exhausted, check the account's billing: {_error_message(exc)}"
        return ProviderConfigError(quota, provider=provider, status=exc.status_code)
    # 408 and 409 are transient on OpenAI's side; the SDK retries them too.
    return map_http_status(exc.status_code, _error_message(exc), exc.response.headers, provider)


def _error_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return exc.message
