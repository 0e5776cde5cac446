"""Any langchain-core `BaseChatModel` instance, for users who already have one configured.

When the model supports `with_structured_output` (it implements `bind_tools`) the answer schema is passed
as a tool and the parsed arguments are the answer. Otherwise the schema is spelled out in the system text
and the plain reply is parsed as JSON. Retries of the wrapped model are its own business; this adapter
enforces the request timeout and maps failures to `ProviderError`.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from .base import ProviderReply, ProviderRequest, Usage, system_with_schema, tool_name
from .errors import ProviderConfigError, ProviderError, ProviderTimeout, ProviderUnavailable
from .retry import AttemptLog, Clock, RetryPolicy, Sleep, timed_with_retries
from .structured import parse_json_object


class LangChainProvider:
    """Adapts a `BaseChatModel` to `Provider` (`langchain:LABEL` with `chat_model=` in the registry)."""

    provider_name = "langchain"

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        label: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        if not isinstance(chat_model, BaseChatModel):
            raise ProviderConfigError(
                f"expected a langchain_core BaseChatModel instance, got {type(chat_model).__name__}",
                provider=self.provider_name,
            )
        self.chat_model = chat_model
        self.model = label or type(chat_model).__name__
        self._retry = retry or RetryPolicy(max_attempts=1)
        self._sleep = sleep
        self._clock = clock

    @property
    def supports_structured_output(self) -> bool:
        """Whether the wrapped model implements tool binding, which `with_structured_output` needs."""
        return type(self.chat_model).bind_tools is not BaseChatModel.bind_tools

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        """Invoke the chat model once; see `Provider.complete`.

        Raises:
            ProviderTimeout: the model did not answer within `request.timeout_s`.
            ProviderError: any other failure of the wrapped model, with its type and message.
        """
        return await timed_with_retries(lambda log: self._attempt(request, log), self._retry, self._sleep, self._clock)

    async def _attempt(self, request: ProviderRequest, log: AttemptLog) -> ProviderReply:
        try:
            if request.json_schema is not None and self.supports_structured_output:
                return await asyncio.wait_for(self._structured(request), request.timeout_s)
            return await asyncio.wait_for(self._plain(request), request.timeout_s)
        except TimeoutError as exc:
            raise ProviderTimeout("no answer before the request timeout", provider=self.provider_name) from exc
        except (ConnectionError, OSError) as exc:
            raise ProviderUnavailable(f"{type(exc).__name__}: {exc}", provider=self.provider_name) from exc
        except ProviderError:
            raise
        except Exception as exc:  # a user's model may raise anything; keep the type for the message
            raise ProviderError(f"{type(exc).__name__}: {exc}", provider=self.provider_name) from exc

    async def _structured(self, request: ProviderRequest) -> ProviderReply:
        tool = {
            "name": tool_name(request),
            "description": "Record the answer.",
            "parameters": dict(request.json_schema or {}),
        }
        runnable = self.chat_model.with_structured_output(tool, include_raw=True)
        # include_raw=True returns {"raw", "parsed", "parsing_error"}; langchain's annotation is the union of modes
        out: dict[str, Any] = await runnable.ainvoke(_messages(request, request.system))  # type: ignore[assignment]
        parsed, raw = out.get("parsed"), out.get("raw")
        if isinstance(parsed, dict):
            return self._reply(json.dumps(parsed), parsed, raw)
        text = _text_of(raw)
        return self._reply(text, parse_json_object(text), raw)

    async def _plain(self, request: ProviderRequest) -> ProviderReply:
        message = await self.chat_model.ainvoke(_messages(request, system_with_schema(request)))
        text = _text_of(message)
        return self._reply(text, parse_json_object(text), message)

    def _reply(self, text: str, data: dict[str, Any] | None, raw: Any) -> ProviderReply:
        usage = getattr(raw, "usage_metadata", None) or {}
        return ProviderReply(
            text=text,
            data=data,
            model=self.model,
            provider=self.provider_name,
            usage=Usage(int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))),
        )


def _messages(request: ProviderRequest, system: str) -> list[BaseMessage]:
    turns: list[BaseMessage] = [SystemMessage(system)]
    for m in request.messages:
        turns.append(HumanMessage(m.content) if m.role == "user" else AIMessage(m.content))
    return turns


def _text_of(message: Any) -> str:
    if message is None:
        return ""
    text = getattr(message, "text", None)
    if isinstance(text, str):  # langchain's TextAccessor is a str subclass
        return str(text)
    content = getattr(message, "content", "")
    return content if isinstance(content, str) else json.dumps(content)
