"""`flows`, `check`, `lint`, `diff`, `--help` and `analyze` without a model start without loading model SDKs,
LangChain or the web stack.

Each command runs in a fresh interpreter (as the console script would) and reports which heavy modules
ended up in `sys.modules`; importing them where they are used keeps these commands quick to start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shared import CORPUS

ROOT = Path(__file__).resolve().parents[3]
SHOP = str(ROOT / "examples" / "shop")
HEAVY = ("openai", "anthropic", "langchain_core", "fastapi", "uvicorn", "sqlalchemy", "starlette", "langsmith")

PROBE = """
import json, sys
sys.argv = ["netreason", *json.loads(sys.argv[1])]
from service.cli import main
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
print("\\nPROBE " + json.dumps({"code": code, "loaded": sorted(m for m in HEAVY if m in sys.modules)}))
"""

COMMANDS = {
    "help": ["--help"],
    "flows": ["flows", SHOP],
    "flows-json": ["flows", SHOP, "-o", "json"],
    "check": ["check", SHOP, "--from", "shop/web", "--to", "shop/api", "--port", "8080"],
    "lint": ["lint", SHOP, "--fail-on", "never"],
    "lint-markdown": ["lint", SHOP, "-o", "markdown", "--fail-on", "never"],
    "diff": ["diff", SHOP, SHOP],
    "lint-help": ["lint", "--help"],
    # No model: the ground truth alone, so the prompt library (LangChain) is never needed.
    "analyze-no-model": ["analyze", SHOP, "-o", "json"],
    "analyze-no-model-text": ["analyze", SHOP],
}


def run_probe(args: list[str], heavy: tuple[str, ...] = HEAVY) -> dict:
    code = PROBE.replace("HEAVY", repr(heavy))
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE ")]
    assert line, f"the command did not finish: {proc.stderr[-2000:]}"
    return json.loads(line[-1][len("PROBE "):])


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_starts_without_heavy_imports(name: str) -> None:
    result = run_probe(COMMANDS[name])
    assert result["code"] in (0, 1, None), result
    assert result["loaded"] == [], f"`netreason {' '.join(COMMANDS[name])}` imported {result['loaded']}"


def test_probe_sees_heavy_imports_when_they_happen() -> None:
    """The probe itself can fail: `prompts list` needs the prompt library, which imports langchain_core."""
    result = run_probe(["prompts", "list"])
    assert "langchain_core" in result["loaded"]


#: What JSON output never needs: the renderers of the other formats, and rich (tables, HTML, terminal text).
OTHER_FORMATS = ("rich", "service.renderers.sarif", "service.renderers.findings", "service.renderers.analysis")


@pytest.mark.parametrize("args", [["lint", SHOP, "-o", "json", "--fail-on", "never"], ["analyze", SHOP, "-o", "json"],
                                  ["diff", SHOP, SHOP, "-o", "json"]], ids=["lint", "analyze", "diff"])
def test_json_output_imports_no_other_format_renderer(args: list[str]) -> None:
    result = run_probe(args, OTHER_FORMATS)
    assert result["code"] in (0, 1, None), result
    assert result["loaded"] == [], f"`netreason {' '.join(args)}` imported {result['loaded']}"


def test_the_other_formats_do_import_their_renderers() -> None:
    """The probe can fail here too: SARIF and text need their renderers."""
    assert "service.renderers.sarif" in run_probe(["lint", SHOP, "-o", "sarif", "--fail-on", "never"],
                                                  OTHER_FORMATS)["loaded"]
    assert "service.renderers.analysis" in run_probe(["analyze", SHOP], OTHER_FORMATS)["loaded"]


#: The model machinery `analyze` needs only with a model: the pipeline's slicing and claim checking, and an event loop;
#: and the question parser, which only `ask` uses.
MODEL_PATH = ("asyncio", "service.pipeline", "service.cpu", "service.questions")


@pytest.mark.parametrize("args", [["analyze", SHOP, "-o", "json"], ["analyze", SHOP],
                                  ["analyze", SHOP, "-n", "shop", "-o", "json"]], ids=["json", "text", "scoped"])
def test_analyze_without_a_model_skips_the_pipeline(args: list[str]) -> None:
    result = run_probe(args, MODEL_PATH)
    assert result["code"] in (0, 1, None), result
    assert result["loaded"] == [], f"`netreason {' '.join(args)}` imported {result['loaded']}"


def test_analyze_with_a_model_or_a_dry_run_runs_the_pipeline() -> None:
    """The probe can fail: a (simulated) model and a dry run go through `service.pipeline` and its event loop."""
    for args in (["analyze", SHOP, "-o", "json", "--model", "simulated:oracle"],
                 ["analyze", SHOP, "--model", "simulated:oracle", "--dry-run"]):
        result = run_probe(args, MODEL_PATH)
        assert result["code"] in (0, 1, None), result
        assert "service.pipeline" in result["loaded"], args
    assert "asyncio" in run_probe(["analyze", SHOP, "-o", "json", "--model", "simulated:oracle"], MODEL_PATH)["loaded"]


#: What a command that never reviews policies needs none of: the review rules and their fixes.
REVIEW = ("verifier.review.findings", "verifier.review.fixes", "verifier.review.rules.context")


@pytest.mark.parametrize("args", [["check", SHOP, "--from", "shop/web", "--to", "shop/api", "--port", "8080"],
                                  ["flows", SHOP, "-o", "summary"]], ids=["check", "flows-summary"])
def test_commands_without_findings_import_no_review_rules(args: list[str]) -> None:
    result = run_probe(args, REVIEW)
    assert result["code"] in (0, 1, None), result
    assert result["loaded"] == [], f"`netreason {' '.join(args)}` imported {result['loaded']}"


def test_review_probe_can_fail() -> None:
    assert run_probe(["lint", SHOP, "-o", "json", "--fail-on", "never"], REVIEW)["loaded"] == sorted(REVIEW)


#: What `analyze` without a model never needs: slicing the cluster for a model's prompts, and the brief it reads.
SLICING = ("service.slices", "service.brief", "service.pipeline")


@pytest.mark.parametrize("args", [["analyze", SHOP, "-o", "json"], ["analyze", SHOP, "-n", "shop", "-o", "json"]],
                         ids=["whole", "namespace"])
def test_analyze_without_a_model_imports_no_slicing(args: list[str]) -> None:
    result = run_probe(args, SLICING)
    assert result["code"] in (0, 1, None), result
    scoped = "-n" in args  # a scope's workloads are found through the slicing indexes
    assert result["loaded"] == (["service.brief", "service.slices"] if scoped else []), result


def test_slicing_probe_can_fail() -> None:
    assert run_probe(["analyze", SHOP, "--dry-run"], SLICING)["loaded"] == sorted(SLICING)


#: Read only when their input is there: a deps file, a Hubble export, AdminNetworkPolicies.
OPTIONAL_READERS = ("verifier.deps.declared", "verifier.deps.hubble", "verifier.engine.admin_compile")


def test_lint_without_deps_flows_or_admin_policies_imports_none_of_their_readers(tmp_path: Path) -> None:
    corpus = CORPUS / "online-boutique"
    for name in ("kubernetes-manifests.yaml", "network-policies.yaml"):
        (tmp_path / name).write_text((corpus / name).read_text())
    result = run_probe(["lint", str(tmp_path), "-o", "json", "--fail-on", "never"], OPTIONAL_READERS)
    assert result["code"] in (0, 1, None), result
    assert result["loaded"] == [], result
    with_deps = run_probe(["lint", str(tmp_path), "--deps", str(corpus / "deps.yaml"), "-o", "json",
                           "--fail-on", "never"], OPTIONAL_READERS)
    assert with_deps["loaded"] == ["verifier.deps.declared"], with_deps
