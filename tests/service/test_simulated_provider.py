"""Simulated models are a provider registered like the others: no CLI command or eval run has to register them.

They used to be registered as a side effect of `netreason analyze` (and the eval runner), which is why the API
answered `unknown provider 'simulated'`. Now `simulated:` is in the registry's table, like `openai:`; these tests
ask for one in a fresh interpreter, where nothing else ran, and through the HTTP API on a server that no CLI
command in this process has touched first (the registry is the only way in).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.settings import Settings
from tests.fakes.api_server import ApiServer, sqlite_url
from tests.service.test_api import shop_deps, shop_text

ROOT = Path(__file__).resolve().parents[2]


def test_a_fresh_interpreter_builds_a_simulated_provider_without_importing_evals() -> None:
    code = ("import sys, json; from service.providers.registry import get_provider, registered_prefixes; "
            "p = get_provider('simulated:ignores-policytypes'); "
            "print(json.dumps([p.model, 'simulated' in registered_prefixes(), "
            "sorted(m for m in sys.modules if m == 'evals' or m.startswith('evals.'))]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["simulated:ignores-policytypes", True, []]


def test_an_unknown_simulated_mode_is_a_configuration_error_naming_the_known_ones() -> None:
    from service.providers.errors import ProviderConfigError
    from service.providers.registry import get_provider

    with pytest.raises(ProviderConfigError, match="simulated:oracle"):
        get_provider("simulated:clairvoyant")


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None,
                    allowed_models=("simulated:hallucinates", "simulated:oracle"))


@pytest.fixture
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=60) as c:
        yield c


def test_post_analyze_with_a_simulated_model_answers_and_labels_it_simulated(client: httpx.Client) -> None:
    response = client.post("/v1/analyze", json={"manifests": shop_text(), "deps": shop_deps(),
                                                "model": "simulated:hallucinates", "prompt": "flows", "save": False})
    assert response.status_code == 200, response.text
    model = response.json()["model"]
    assert model["name"] == "simulated:hallucinates" and model["simulated"] is True and model["error"] is None
    verdicts = {c["verdict"] for c in model["claims"]}
    assert "confirmed" in verdicts  # the oracle's claims
    assert verdicts & {"contradicted", "unverifiable"}  # and the invented workloads, caught


def test_post_chat_with_a_simulated_model_answers_labelled_simulated(client: httpx.Client) -> None:
    response = client.post("/v1/chat", json={"text": "what breaks?", "manifests": shop_text(), "deps": shop_deps(),
                                            "model": "simulated:oracle"})
    assert response.status_code == 200, response.text
    model = response.json()["model"]
    assert model["name"] == "simulated:oracle" and model["simulated"] is True and not model.get("error")
