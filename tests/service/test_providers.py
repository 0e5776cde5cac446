"""Providers end to end: real SDK clients → real HTTP → the fake provider server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import datetime, UTC
from email.utils import format_datetime
from typing import Any, ClassVar

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict

from service.providers import (
    JsonResult,
    Message,
    MissingApiKey,
    Provider,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderOutputInvalid,
    ProviderRateLimited,
    ProviderReply,
    ProviderRequest,
    ProviderRequestRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RetryPolicy,
    ScriptedProvider,
    append_repair_turn,
    complete_json,
    get_provider,
    parse_json_object,
    parse_retry_after,
    register_provider,
    registered_prefixes,
)
from service.providers.langchain_adapter import LangChainProvider
from tests.fakes.provider_server import (
    FakeProviderServer,
    Failure,
    RecordedRequest,
    answer,
    malformed,
    rate_limited,
    server_error,
    slow,
    unauthorized,
)

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "dns_ok": {"type": "boolean"},
    },
    "required": ["summary", "dns_ok"],
    "additionalProperties": False,
}
GOOD = {"summary": "web reaches api on TCP 8080", "dns_ok": True}
GOOD_JSON = '{"summary": "web reaches api on TCP 8080", "dns_ok": true}'


class ShortAnswer(BaseModel):
    """The validated form of ANSWER_SCHEMA, as the pipeline will use a pydantic model."""

    model_config = ConfigDict(extra="forbid")
    summary: str
    dns_ok: bool


class SleepRecorder:
    """An injected `sleep` that records the requested waits and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_request(**changes: Any) -> ProviderRequest:
    request = ProviderRequest(
        system="You explain Kubernetes NetworkPolicy flows.",
        messages=[Message("user", "Can web reach api?")],
        json_schema=ANSWER_SCHEMA,
        schema_name="short_answer",
        max_tokens=300,
        timeout_s=5.0,
    )
    return request.replace(**changes) if changes else request


def openai_provider(srv: FakeProviderServer, **overrides: Any) -> Provider:
    overrides.setdefault("sleep", SleepRecorder())
    return get_provider("openai:gpt-4.1-mini", api_key="sk-test", base_url=srv.openai_base_url, **overrides)


def anthropic_provider(srv: FakeProviderServer, **overrides: Any) -> Provider:
    overrides.setdefault("sleep", SleepRecorder())
    return get_provider(
        "anthropic:claude-sonnet-4-6", api_key="sk-ant-test", base_url=srv.anthropic_base_url, **overrides
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def ask(provider: Provider, request: ProviderRequest) -> ProviderReply:
    """One `complete` call in its own event loop, closing the SDK client before the loop ends."""
    return run(_closing(provider, provider.complete(request)))


def ask_json(provider: Provider, request: ProviderRequest, repair: Any = append_repair_turn) -> JsonResult[ShortAnswer]:
    """`complete_json` validated as ShortAnswer, closing the SDK client before the loop ends."""
    return run(_closing(provider, complete_json(provider, request, ShortAnswer.model_validate, repair)))


async def _closing(provider: Provider, call: Any) -> Any:
    try:
        return await call
    finally:
        if hasattr(provider, "aclose"):
            await provider.aclose()


# -- OpenAI ----------------------------------------------------------------------------------------------


def test_openai_good_answer_sends_strict_json_schema(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(answer(GOOD, input_tokens=123, output_tokens=45))

    reply = ask(openai_provider(fake_provider), make_request())

    assert reply.data == GOOD
    assert (reply.provider, reply.model, reply.simulated, reply.attempts) == ("openai", "gpt-4.1-mini", False, 1)
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (123, 45)
    assert reply.latency_ms > 0
    [sent] = fake_provider.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.body["model"] == "gpt-4.1-mini"
    assert sent.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "short_answer", "schema": ANSWER_SCHEMA, "strict": True},
    }
    assert sent.body["messages"] == [
        {"role": "system", "content": "You explain Kubernetes NetworkPolicy flows."},
        {"role": "user", "content": "Can web reach api?"},
    ]
    assert sent.body["temperature"] == 0
    assert sent.body["max_completion_tokens"] == 300


def test_openai_key_and_base_url_come_from_environment(fake_provider_env: FakeProviderServer) -> None:
    fake_provider_env.enqueue(answer(GOOD))

    reply = ask(get_provider("openai:gpt-4.1-mini"), make_request())

    assert reply.data == GOOD
    assert fake_provider_env.requests[0].headers["authorization"] == "Bearer sk-test-fake"


def test_reasoning_model_gets_no_temperature(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(answer(GOOD))
    provider = get_provider("openai:o4-mini", api_key="k", base_url=fake_provider.openai_base_url)

    ask(provider, make_request())

    assert "temperature" not in fake_provider.requests[0].body


# -- Anthropic -------------------------------------------------------------------------------------------


def test_anthropic_good_answer_comes_from_forced_tool_use(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(answer(GOOD, input_tokens=200, output_tokens=30))

    reply = ask(anthropic_provider(fake_provider), make_request())

    assert reply.data == GOOD
    assert (reply.provider, reply.model) == ("anthropic", "claude-sonnet-4-6")
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (200, 30)
    [sent] = fake_provider.requests
    assert sent.path == "/v1/messages"
    assert sent.body["system"] == "You explain Kubernetes NetworkPolicy flows."
    assert sent.body["tools"][0]["name"] == "short_answer"
    assert sent.body["tools"][0]["input_schema"] == ANSWER_SCHEMA
    assert sent.body["tool_choice"] == {"type": "tool", "name": "short_answer"}
    assert sent.body["max_tokens"] == 300


def test_anthropic_output_format_mode_reads_json_text(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(answer(GOOD))

    reply = ask(anthropic_provider(fake_provider, mode="output_format"), make_request())

    assert reply.data == GOOD
    sent = fake_provider.requests[0].body
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": ANSWER_SCHEMA}}
    assert "tools" not in sent


def test_anthropic_rate_limit_body_and_retry_after_are_understood(fake_provider: FakeProviderServer) -> None:
    sleep = SleepRecorder()
    fake_provider.enqueue(rate_limited(retry_after="2"), answer(GOOD))

    reply = ask(anthropic_provider(fake_provider, sleep=sleep), make_request())

    assert reply.data == GOOD and reply.attempts == 2
    assert sleep.waits == [2.0]


# -- OpenAI-compatible -----------------------------------------------------------------------------------


def test_openai_compatible_sends_no_key_even_when_openai_key_is_set(
    fake_provider: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    fake_provider.enqueue(answer(GOOD))
    provider = get_provider(f"openai-compatible:{fake_provider.openai_base_url}#llama3.1")

    reply = ask(provider, make_request())

    assert reply.data == GOOD and reply.provider == "openai-compatible" and reply.model == "llama3.1"
    [sent] = fake_provider.requests
    assert "authorization" not in sent.headers
    assert sent.body["model"] == "llama3.1"
    assert sent.body["max_tokens"] == 300
    assert sent.response_format_type == "json_schema"


def test_openai_compatible_sends_configured_key(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(answer(GOOD))
    provider = get_provider(f"openai-compatible:{fake_provider.openai_base_url}#qwen", api_key="vllm-key")

    ask(provider, make_request())

    assert fake_provider.requests[0].headers["authorization"] == "Bearer vllm-key"


def test_openai_compatible_falls_back_from_json_schema_to_json_mode(fake_provider: FakeProviderServer) -> None:
    fake_provider.reject_response_format("json_schema")
    fake_provider.enqueue(answer(GOOD), answer(GOOD))
    provider = get_provider(f"openai-compatible:{fake_provider.openai_base_url}#llama3.1")

    first = ask(provider, make_request())
    second = ask(provider, make_request())

    assert first.data == GOOD and first.attempts == 2
    assert second.data == GOOD and second.attempts == 1  # the accepted format is remembered
    kinds = [r.response_format_type for r in fake_provider.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    fallback_system = fake_provider.requests[1].body["messages"][0]["content"]
    assert "JSON" in fallback_system and '"dns_ok"' in fallback_system


def test_openai_compatible_falls_back_to_no_response_format(fake_provider: FakeProviderServer) -> None:
    fake_provider.reject_response_format("json_schema", "json_object")
    fake_provider.enqueue(answer(GOOD))
    provider = get_provider(f"openai-compatible:{fake_provider.openai_base_url}#phi")

    reply = ask(provider, make_request())

    assert reply.data == GOOD and reply.attempts == 3
    assert [r.response_format_type for r in fake_provider.requests] == ["json_schema", "json_object", None]


def test_openai_compatible_does_not_fall_back_on_unrelated_400(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(Failure(400, "model 'nope' not found"))
    provider = get_provider(f"openai-compatible:{fake_provider.openai_base_url}#nope")

    with pytest.raises(ProviderRequestRejected, match="model 'nope' not found"):
        ask(provider, make_request())
    assert len(fake_provider.requests) == 1


# -- LangChain -------------------------------------------------------------------------------------------


def test_langchain_model_without_tools_is_invoked_plainly_and_parsed() -> None:
    reply_message = AIMessage(
        content=f"Here is the JSON:\n```json\n{GOOD_JSON}\n```",
        usage_metadata={"input_tokens": 12, "output_tokens": 8, "total_tokens": 20},
    )
    provider = get_provider("langchain:fake", chat_model=GenericFakeChatModel(messages=iter([reply_message])))

    reply = ask(provider, make_request())

    assert reply.data == GOOD
    assert (reply.provider, reply.model) == ("langchain", "fake")
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (12, 8)


class ToolCallingChatModel(BaseChatModel):
    """A minimal tool-calling chat model: it answers every request by calling the first bound tool."""

    args: dict[str, Any]
    seen: ClassVar[list[dict[str, Any]]] = []

    @property
    def _llm_type(self) -> str:
        return "tool-calling-test"

    def bind_tools(self, tools: Any, *, tool_choice: Any = None, **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice, **kwargs)

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.seen.append({"messages": messages, "tools": kwargs["tools"], "tool_choice": kwargs["tool_choice"]})
        name = kwargs["tools"][0]["function"]["name"]
        message = AIMessage(
            content="",
            tool_calls=[{"name": name, "args": self.args, "id": "call_1"}],
            usage_metadata={"input_tokens": 30, "output_tokens": 5, "total_tokens": 35},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def test_langchain_model_with_tools_uses_structured_output() -> None:
    chat_model = ToolCallingChatModel(args=GOOD, seen=[])
    provider = LangChainProvider(chat_model, label="toolcaller")

    reply = ask(provider, make_request())

    assert provider.supports_structured_output
    assert reply.data == GOOD and reply.usage.input_tokens == 30
    [call] = chat_model.seen
    assert call["tools"][0]["function"]["name"] == "short_answer"
    assert call["tools"][0]["function"]["parameters"]["required"] == ["summary", "dns_ok"]
    assert call["messages"][0].content == "You explain Kubernetes NetworkPolicy flows."


def test_langchain_spec_without_model_instance_is_a_config_error() -> None:
    with pytest.raises(ProviderConfigError, match="chat_model="):
        get_provider("langchain:mine")


# -- JSON repair -----------------------------------------------------------------------------------------


def test_malformed_json_gets_one_repair_round_then_succeeds(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(malformed('{"summary": "web reaches'), answer(GOOD, input_tokens=50, output_tokens=10))

    result = ask_json(openai_provider(fake_provider), make_request())

    assert result.value == ShortAnswer(**GOOD)
    assert result.repaired and result.error is None and len(result.replies) == 2
    assert (result.usage.input_tokens, result.usage.output_tokens) == (42 + 50, 17 + 10)
    repair_messages = fake_provider.requests[1].body["messages"]
    assert repair_messages[-2] == {"role": "assistant", "content": '{"summary": "web reaches'}
    assert repair_messages[-1]["role"] == "user" and "not a JSON object" in repair_messages[-1]["content"]


def test_malformed_twice_is_output_invalid(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(malformed("I think web can reach api."), malformed("Still prose, sorry."))

    result = ask_json(openai_provider(fake_provider), make_request())

    assert result.value is None
    assert isinstance(result.error, ProviderOutputInvalid)
    assert result.error.text == "Still prose, sorry."
    assert "after one repair round" in str(result.error)
    assert len(fake_provider.requests) == 2
    with pytest.raises(ProviderOutputInvalid):
        result.unwrap()


def test_schema_mismatch_reaches_the_repair_callback(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(answer({"summary": "ok"}), answer(GOOD))  # first answer lacks dns_ok
    seen: list[tuple[str, str]] = []

    def repair(request: ProviderRequest, bad_text: str, problem: str) -> ProviderRequest:
        seen.append((bad_text, problem))
        return request.followed_by(Message("user", "REPAIR@1: " + problem))

    provider = anthropic_provider(fake_provider)
    result = ask_json(provider, make_request(), repair)

    assert result.repaired and result.value == ShortAnswer(**GOOD)
    [(bad_text, problem)] = seen
    assert bad_text == '{"summary": "ok"}'
    assert "dns_ok" in problem
    assert fake_provider.requests[1].body["messages"][-1]["content"].startswith("REPAIR@1: ")


def test_repair_can_be_disabled() -> None:
    provider = ScriptedProvider(["not json", GOOD])

    result = ask_json(provider, make_request(), repair=None)

    assert isinstance(result.error, ProviderOutputInvalid) and provider.pending == 1


# -- retries, timeouts, errors ---------------------------------------------------------------------------


def test_rate_limit_waits_at_least_retry_after_then_succeeds(fake_provider: FakeProviderServer) -> None:
    sleep = SleepRecorder()
    fake_provider.enqueue(rate_limited(retry_after="3"), answer(GOOD))

    reply = ask(openai_provider(fake_provider, sleep=sleep), make_request())

    assert reply.data == GOOD and reply.attempts == 2
    assert len(sleep.waits) == 1 and sleep.waits[0] >= 3.0
    assert len(fake_provider.requests) == 2


def test_rate_limit_wait_is_real_when_sleep_is_not_injected(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(rate_limited(retry_after="0.2"), answer(GOOD))
    provider = get_provider("openai:gpt-4.1-mini", api_key="k", base_url=fake_provider.openai_base_url)

    started = time.monotonic()
    reply = ask(provider, make_request())

    assert time.monotonic() - started >= 0.2
    assert reply.latency_ms >= 200 and reply.attempts == 2


def test_retry_after_as_http_date_is_honoured_and_capped(fake_provider: FakeProviderServer) -> None:
    sleep = SleepRecorder()
    in_an_hour = format_datetime(datetime.fromtimestamp(time.time() + 3600, UTC), usegmt=True)
    fake_provider.enqueue(rate_limited(retry_after=in_an_hour), answer(GOOD))
    policy = RetryPolicy(max_retry_after_s=5.0)

    ask(openai_provider(fake_provider, sleep=sleep, retry=policy), make_request())

    assert sleep.waits == [5.0]


def test_server_error_backs_off_then_succeeds(fake_provider: FakeProviderServer) -> None:
    sleep = SleepRecorder()
    fake_provider.enqueue(server_error(500), answer(GOOD))
    policy = RetryPolicy(base_delay_s=0.4, jitter=0.5)

    reply = ask(openai_provider(fake_provider, sleep=sleep, retry=policy), make_request())

    assert reply.data == GOOD and reply.attempts == 2
    [wait] = sleep.waits
    assert 0.2 <= wait <= 0.4


def test_server_errors_exhaust_attempts_with_growing_backoff(fake_provider: FakeProviderServer) -> None:
    sleep = SleepRecorder()
    fake_provider.enqueue(server_error(503), server_error(502), server_error(500), answer(GOOD))
    policy = RetryPolicy(max_attempts=3, base_delay_s=1.0, jitter=0.0)

    with pytest.raises(ProviderUnavailable, match="HTTP 500"):
        ask(anthropic_provider(fake_provider, sleep=sleep, retry=policy), make_request())

    assert sleep.waits == [1.0, 2.0]
    assert len(fake_provider.requests) == 3 and fake_provider.pending == 1


def test_slow_answer_is_a_timeout_and_not_retried(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(slow(3.0, GOOD), answer(GOOD))

    started = time.monotonic()
    with pytest.raises(ProviderTimeout):
        ask(openai_provider(fake_provider), make_request(timeout_s=0.3))

    assert time.monotonic() - started < 2.5
    assert len(fake_provider.requests) == 1


def test_unauthorized_is_an_auth_error_and_not_retried(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(unauthorized(), answer(GOOD))

    with pytest.raises(ProviderAuthError, match="Incorrect API key"):
        ask(openai_provider(fake_provider), make_request())
    assert len(fake_provider.requests) == 1


def test_exhausted_quota_is_a_config_error_not_a_retry(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(Failure(429, "You exceeded your current quota", code="insufficient_quota"))

    with pytest.raises(ProviderConfigError, match="quota"):
        ask(openai_provider(fake_provider), make_request())
    assert len(fake_provider.requests) == 1


def test_rate_limit_that_never_clears_raises_with_the_hint(fake_provider: FakeProviderServer) -> None:
    fake_provider.enqueue(*[rate_limited(retry_after="1")] * 2)

    with pytest.raises(ProviderRateLimited) as caught:
        ask(openai_provider(fake_provider, retry=RetryPolicy(max_attempts=2)), make_request())
    assert caught.value.retry_after == 1.0


def test_unreachable_server_is_unavailable() -> None:
    with FakeProviderServer() as srv:
        url = srv.openai_base_url
    provider = get_provider("openai:gpt-4.1-mini", api_key="k", base_url=url, retry=RetryPolicy(max_attempts=1))

    with pytest.raises(ProviderUnavailable, match="cannot connect"):
        ask(provider, make_request())


@pytest.mark.parametrize(
    ("spec", "variable"),
    [("openai:gpt-4.1-mini", "OPENAI_API_KEY"), ("anthropic:claude-sonnet-5-5", "ANTHROPIC_API_KEY")],
)
def test_missing_key_names_the_variable_to_set(spec: str, variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(variable, raising=False)

    with pytest.raises(MissingApiKey, match=variable) as caught:
        get_provider(spec)
    assert caught.value.variable == variable and isinstance(caught.value, ProviderConfigError)


# -- Retry-After and JSON parsing units ------------------------------------------------------------------


def test_parse_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after({"Retry-After": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"Retry-After": "Wed, 01 Jan 2025 12:00:30 GMT"}, now=lambda: now) == 30.0
    assert parse_retry_after({"Retry-After": "Wed, 01 Jan 2025 11:00:00 GMT"}, now=lambda: now) == 0.0
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None


def test_parse_json_object_accepts_fences_and_prose_but_not_lists() -> None:
    assert parse_json_object(GOOD_JSON) == GOOD
    assert parse_json_object(f"```json\n{GOOD_JSON}\n```") == GOOD
    assert parse_json_object(f"Sure! {GOOD_JSON} Hope that helps.") == GOOD
    assert parse_json_object("[1, 2]") is None
    assert parse_json_object('{"summary": ') is None


# -- scripted provider and registry ----------------------------------------------------------------------


def test_scripted_provider_serves_queue_then_responder_and_labels_simulated() -> None:
    provider = get_provider(
        "scripted:demo",
        replies=[GOOD, "not json", ProviderUnavailable("scripted outage")],
        responder=lambda request: {"summary": request.messages[-1].content, "dns_ok": False},
    )
    request = make_request()

    first, second = ask(provider, request), ask(provider, request)
    with pytest.raises(ProviderUnavailable):
        ask(provider, request)
    fourth = ask(provider, request)

    assert first.data == GOOD and second.data is None and second.text == "not json"
    assert fourth.data == {"summary": "Can web reach api?", "dns_ok": False}
    assert all(r.simulated and r.model == "demo" for r in (first, second, fourth))
    assert first.usage.input_tokens > 0


def test_scripted_provider_without_replies_says_so() -> None:
    with pytest.raises(ProviderConfigError, match="no replies left"):
        ask(get_provider("scripted:empty"), make_request())


def test_default_model_comes_from_netreason_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETREASON_MODEL", "scripted:from-env")
    assert ask(get_provider(replies=[GOOD]), make_request()).model == "from-env"

    monkeypatch.delenv("NETREASON_MODEL")
    with pytest.raises(ProviderConfigError, match="NETREASON_MODEL"):
        get_provider()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt-4.1-mini", "no provider prefix"),
        ("bard:x", "unknown provider 'bard'"),
        ("openai:", "model name after the colon"),
        ("openai-compatible:http://localhost:11434/v1", "BASE_URL#MODEL"),
    ],
)
def test_bad_specs_are_config_errors(spec: str, message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message):
        get_provider(spec, api_key="k")


def test_register_provider_adds_a_prefix_and_refuses_silent_replacement(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.providers import registry

    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    register_provider("canned", lambda name, **kw: ScriptedProvider([GOOD], model=name, provider_name="canned"))

    reply = ask(get_provider("canned:oracle"), make_request())

    assert "canned" in registered_prefixes()
    assert (reply.provider, reply.model, reply.simulated) == ("canned", "oracle", True)
    with pytest.raises(ProviderConfigError, match="already registered"):
        register_provider("canned", lambda name, **kw: ScriptedProvider())


def test_importing_providers_loads_no_sdk() -> None:
    sdks = "('openai', 'anthropic', 'langchain_core')"
    code = f"import sys, service.providers; print(sorted(m for m in {sdks} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- the fake server itself ------------------------------------------------------------------------------


def test_fake_server_without_script_answers_418_naming_the_problem(fake_provider: FakeProviderServer) -> None:
    with pytest.raises(ProviderRequestRejected, match="no scripted reply left"):
        ask(openai_provider(fake_provider), make_request())


def test_fake_server_responder_answers_concurrent_requests(fake_provider: FakeProviderServer) -> None:
    def responder(request: RecordedRequest) -> dict[str, Any]:
        question = request.body["messages"][-1]["content"]
        return {"summary": f"answer to {question}", "dns_ok": True}

    fake_provider.set_responder(responder)
    provider = openai_provider(fake_provider)

    async def many() -> list[Any]:
        requests = [make_request(messages=[Message("user", f"q{i}")]) for i in range(20)]
        return await _closing(provider, asyncio.gather(*(provider.complete(r) for r in requests)))

    replies = run(many())

    assert sorted(r.data["summary"] for r in replies) == sorted(f"answer to q{i}" for i in range(20))
    assert len(fake_provider.requests) == 20


def test_provider_errors_are_netreason_errors() -> None:
    from verifier.model.errors import NetreasonError

    assert issubclass(ProviderError, NetreasonError)
    assert ProviderRateLimited("x").retryable and ProviderUnavailable("x").retryable
    assert not ProviderTimeout("x").retryable and not ProviderOutputInvalid("x").retryable
