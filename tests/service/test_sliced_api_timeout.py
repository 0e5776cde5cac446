"""The API's `timeout_s` bounds a whole sliced run, not each call: slices that each answer in time but
together take longer end in one ProviderTimeout, with the ground truth still returned."""

from __future__ import annotations

import httpx

from service.settings import Settings
from tests.fakes.provider_server import Answer, FakeProviderServer, RawText, RecordedRequest, answer
from tests.service.test_api import api_settings, client  # noqa: F401  (fixtures: MODEL allowed, an HTTP client)
from tests.service.test_api import MODEL, shop_text, shop_workload_count

CALL_DELAY_S = 1.5
TIMEOUT_S = 2.0


def slow_with_a_repair(recorded: RecordedRequest) -> Answer | RawText:
    """Each slice's first reply is not JSON (so it gets a repair round); the repair answers. Every call takes
    CALL_DELAY_S, under TIMEOUT_S: no single call times out."""
    repair = any(m["role"] == "assistant" for m in recorded.body["messages"])
    if repair:
        return answer({"summary": "nothing is broken", "claims": []}, delay_s=CALL_DELAY_S)
    return RawText("let me think about it", delay_s=CALL_DELAY_S)


def test_timeout_s_bounds_the_whole_sliced_run(fake_provider_env: FakeProviderServer, client: httpx.Client) -> None:  # noqa: F811
    fake_provider_env.set_responder(slow_with_a_repair)
    response = client.post("/v1/analyze", json={"manifests": shop_text(), "model": MODEL, "prompt": "breakage",
                                                "budget": "1500:400", "timeout_s": TIMEOUT_S})
    assert response.status_code == 200
    doc = response.json()
    # 7 slices, 4 at a time, 2 calls each: 4 rounds of CALL_DELAY_S unbounded; the run stops at TIMEOUT_S + grace.
    assert doc["model"]["error_kind"] == "ProviderTimeout", doc["model"]
    assert doc["model"]["error"] == (f"the model did not answer within {TIMEOUT_S:g}s; raise timeout_s (at most "
                                     f"{Settings().max_model_timeout_s:g}s) or use a faster model")
    assert doc["ground_truth"]["summary"]["workloads"] == shop_workload_count()
    # Unbounded, every call would answer in time and the run would succeed after 14 calls: the whole-run
    # timeout is what stopped it (wall time is not asserted: it moves with the machine's load).
    assert len(fake_provider_env.requests) < 14
