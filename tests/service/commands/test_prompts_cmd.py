"""`netreason prompts list|show|render` through click's runner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from service.commands.prompts_cmd import prompts_group
from tests.shared import CORPUS, require_shared

HARDENED = CORPUS / "bitnami-wordpress" / "hardened"


def run(*args):
    return CliRunner().invoke(prompts_group, list(args))


def test_list_shows_every_prompt_with_its_variables():
    result = run("list")
    assert result.exit_code == 0
    refs = [line.split()[0] for line in result.output.splitlines()]
    assert refs == ["ask@1", "breakage@1", "dns@1", "flows@1", "flows@2", "plan@1", "repair@1", "review@1"]
    assert "bad_output, error" in result.output


def test_show_prints_variables_templates_and_schema():
    result = run("show", "review", "--schema")
    assert result.exit_code == 0
    assert result.output.startswith("# review@1: ")
    assert ("  flows_added: flows the change opens, one per line (src -> dst PROTO/port) (default: none)"
            in result.output)
    assert "## user\nCluster brief (after the change):\n{brief}" in result.output
    assert json.loads(result.output.split("## answer schema\n", 1)[1])["title"] == "ModelAnswer"


def test_unknown_prompt_exits_2_without_a_traceback():
    result = run("show", "flows@7")
    assert result.exit_code == 2
    assert "error: unknown prompt 'flows@7'; available: " in result.output
    assert "Traceback" not in result.output


def test_render_builds_the_brief_from_manifests_and_deps():
    require_shared()
    result = run("render", "breakage", "--bundle", str(HARDENED / "manifests.yaml"), "--deps",
                 str(HARDENED / "deps.yaml"),
                 "--namespace", "wordpress")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# breakage@1 (answer schema ModelAnswer)\n\n## system\n")
    assert "  wordpress/wordpress -> wordpress/wordpress-mariadb TCP/3306 (declared)\n" in result.output
    assert "bitnami" not in result.output.lower()  # no image names
    assert "MARIADB_PASSWORD" not in result.output


def test_render_json_with_anonymize_carries_the_mapping():
    require_shared()
    result = run("render", "ask", "--bundle", str(HARDENED / "manifests.yaml"), "--namespace", "wordpress",
                 "--anonymize", "--json", "--var",
                 "question=Can wordpress/wordpress reach wordpress/wordpress-mariadb?")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ref"] == "ask@1" and data["pseudonyms"]["ns"] == {"wordpress": "ns-1"}
    assert data["messages"][-1]["content"].endswith("Question: Can ns-1/name-1 reach ns-1/name-2?")
    assert "wordpress" not in data["messages"][-1]["content"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask"], "error: ask@1: missing variable(s) question"),
        (["ask", "--var", "question"], "error: --var 'question': expected NAME=VALUE"),
        (["dns", "--var", "focus=x"], "error: dns@1: unknown variable(s) focus"),
    ],
    ids=["missing", "malformed", "unknown"],
)
def test_render_variable_errors_exit_2(args, message):
    require_shared()
    result = run("render", *args, "--bundle", str(HARDENED / "manifests.yaml"))
    assert result.exit_code == 2
    assert message in result.output
