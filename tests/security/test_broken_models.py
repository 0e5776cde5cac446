"""Finding 5: a model server that answers 200 with a body that is not a Chat Completions envelope.

Before: a JSONDecodeError / AttributeError escaped the provider's error handling (CLI traceback, API 500,
no ground truth). Now every such reply degrades to the ground truth with the failure stated.
"""

from __future__ import annotations

import json

import httpx
import pytest

from service.settings import Settings
from tests.fakes.api_server import running_api, sqlite_url
from tests.fakes.raw_http import RawHttpServer

from .support import EXAMPLE, netreason

BROKEN_BODIES = {
    "invalid-json": (b'{"choices": [', "application/json"),
    "empty": (b"", "application/json"),
    "html": (b"<html><body>Bad gateway</body></html>", "text/html"),
    "content-is-a-list": (json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                                      "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant", "content": [{"a": 1}]}}]}).encode(),
                          "application/json"),
    "choices-is-a-string": (b'{"choices": "nope", "model": "m"}', "application/json"),
    "json-array": (b"[1, 2, 3]", "application/json"),
}


@pytest.mark.parametrize("name", sorted(BROKEN_BODIES))
def test_cli_keeps_the_ground_truth_when_the_model_body_is_broken(name):
    body, content_type = BROKEN_BODIES[name]
    with RawHttpServer(200, body, content_type=content_type) as srv:
        proc = netreason("analyze", EXAMPLE, "--model", f"openai-compatible:{srv.url}/v1#m", "-o", "json")
    # Exit 3: the model was asked and gave no answer (the run must not pass), the ground truth is out.
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and "the model failed" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ground_truth"]["dependencies_broken"], "the ground truth must survive"
    assert doc["model"]["error"] and doc["model"]["error_kind"] == "ProviderOutputInvalid"
    assert doc["model"]["claims"] == []


@pytest.mark.parametrize("name", ["invalid-json", "html", "content-is-a-list"])
def test_api_keeps_the_ground_truth_when_the_model_body_is_broken(tmp_path, name):
    body, content_type = BROKEN_BODIES[name]
    manifests = "".join(p.read_text() + "\n---\n" for p in sorted((__import__("pathlib").Path(EXAMPLE)).glob("*.yaml")))
    with RawHttpServer(200, body, content_type=content_type) as srv:
        spec = f"openai-compatible:{srv.url}/v1#m"
        settings = Settings(database_url=sqlite_url(tmp_path), model=spec)
        with running_api(settings) as api:
            r = httpx.post(f"{api.base_url}/v1/analyze", json={"manifests": manifests}, timeout=60)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["ground_truth"]["summary"]["workloads"] > 0
    assert doc["model"]["error_kind"] == "ProviderOutputInvalid"
