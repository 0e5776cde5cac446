"""SARIF 2.1.0 rendering of findings, for GitHub code scanning and reviewdog.

SARIF 2.1.0 (OASIS), §3.13 sarifLog: `version` "2.1.0" and `runs`; §3.14 run: `tool`
(with `driver.name`) and `results`; §3.27 result: `message` and, for code scanning, a
`physicalLocation` whose `artifactLocation.uri` is relative to the repository root
(`uriBaseId` %SRCROOT%) and whose `region.startLine` is 1-based.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from service.fixfiles import NEW_POLICIES_DIR, Edit, patch_edit
from service.renderers.jsontext import dumps_indented
from verifier.review.fixes import Fix
from verifier.review.rules.catalog import RULES

SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
HELP_URI = "https://github.com/netreason/netreason/blob/main/docs/rules.md#"
#: The artifact a result points at when its input came from standard input.
STDIN_URI = "stdin"


def sarif_log(findings: list[dict[str, Any]], root: str | None = None, *, fixes: list[dict[str, Any]] | None = None,
              texts: Mapping[str, str] | None = None, default_namespace: str = "default") -> dict[str, Any]:
    """A SARIF log with one run: every rule of the catalog, one result per finding (lint JSON entries).

    Every result has a physical location (GitHub code scanning drops results without one): a
    finding without a file (stdin, or nothing to point at) points at `stdin` or the first file
    of the run, line 1. A broken dependency points at the policy that denies it, with the
    dependency's declaration as a related location. `fixes` (lint JSON `fixes`) become each
    result's SARIF `fixes`; a patch needs its file's text in `texts` to say which lines change.
    """
    index = {r.id: i for i, r in enumerate(RULES)}
    base = Path(root or os.getcwd()).resolve()
    fallback = next((f["file"] for f in findings if f.get("file") and f["file"] != "-"), STDIN_URI)
    context = _Context(base, fallback, {f["id"]: f for f in fixes or ()}, dict(texts or {}), default_namespace)
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "netreason", "version": _version(), "informationUri": HELP_URI.split("/blob/")[0],
                "rules": [_rule(r) for r in RULES],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri() + "/"}},
            "results": [_result(f, index, context) for f in findings],
        }],
    }


def render_sarif(doc: dict[str, Any], root: str | None = None, texts: Mapping[str, str] | None = None) -> str:
    """The SARIF text for a lint document (or any document with `findings`, and `fixes`)."""
    return dumps_indented(sarif_log(doc["findings"], root, fixes=doc.get("fixes"), texts=texts))


@dataclass(frozen=True)
class _Context:
    base: Path
    fallback: str  # the file a result without one points at
    fixes: dict[str, dict[str, Any]]
    texts: dict[str, str]
    default_namespace: str


def _rule(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "name": "".join(part.capitalize() for part in r.id.split("-")),
        "shortDescription": {"text": r.title}, "fullDescription": {"text": r.help},
        "help": {"text": r.help, "markdown": f"**{r.title}**\n\n{r.help}"},
        "helpUri": HELP_URI + r.id,
        "defaultConfiguration": {"level": LEVELS[r.severity]},
    }


def _result(f: dict[str, Any], index: dict[str, int], ctx: _Context) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f["rule"], "level": LEVELS[f["severity"]],
        "message": {"text": f["message"]},
        "partialFingerprints": {"netreasonKey/v1": _fingerprint(f)},
        "properties": {"object": f["object"], "key": f.get("key", "")},
    }
    if f["rule"] in index:
        result["ruleIndex"] = index[f["rule"]]
    if f.get("fix"):
        result["message"]["markdown"] = f"{f['message']}\n\nSuggested fix:\n\n```yaml\n{f['fix'].rstrip()}\n```"
        result["properties"]["fix"] = f["fix"]
    result["locations"] = [_location(f, ctx)]
    denying = _denying_policy(f)
    if denying is not None:
        declared = _location(f, ctx, message="the dependency, as declared")
        declared["id"] = 1
        result["locations"] = [_location({**f, **denying}, ctx)]
        result["relatedLocations"] = [declared]
    fixes = [_sarif_fix(ctx.fixes[i], ctx) for i in f.get("fixes") or () if i in ctx.fixes]
    if any(fixes):
        result["fixes"] = [x for x in fixes if x]
    return result


def _denying_policy(f: dict[str, Any]) -> dict[str, Any] | None:
    """Where the policy that denies a broken dependency is, when known."""
    if f["rule"] != "dependency-broken":
        return None
    located = [p for p in (f.get("details") or {}).get("policy_locations", ()) if p.get("file") and p["file"] != "-"]
    return {"file": located[0]["file"], "line": located[0]["line"]} if located else None


def _location(f: dict[str, Any], ctx: _Context, message: str | None = None) -> dict[str, Any]:
    file = f.get("file") or ctx.fallback
    line = int(f.get("line") or 0) if f.get("file") else 0
    uri = STDIN_URI if file == "-" else file
    artifact = {"uri": uri, "uriBaseId": "%SRCROOT%"} if uri == STDIN_URI else _artifact(uri, ctx.base)
    physical: dict[str, Any] = {"artifactLocation": artifact, "region": {"startLine": max(line, 1)}}
    out: dict[str, Any] = {"physicalLocation": physical, "logicalLocations": [{"fullyQualifiedName": f["object"]}]}
    if message:
        out["message"] = {"text": message}
    return out


def _sarif_fix(fix: dict[str, Any], ctx: _Context) -> dict[str, Any] | None:
    """A SARIF fix: a new file for an added policy; the policy's document replaced for a patch."""
    if fix["action"] == "add":
        change = {"artifactLocation": {"uri": f"{NEW_POLICIES_DIR}/{fix['namespace']}-{fix['name']}.yaml",
                                       "uriBaseId": "%SRCROOT%"},
                  "replacements": [{"deletedRegion": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
                                    "insertedContent": {"text": _manifest_text(fix)}}]}
        return {"description": {"text": fix["description"]}, "artifactChanges": [change]}
    file = fix.get("file")
    text = ctx.texts.get(file or "")
    edit = _patch_edit(text, fix, ctx) if text is not None and file else None
    if edit is None or file is None or text is None:
        return None
    start, end = _line_col(text, edit.start), _line_col(text, edit.end)
    region = {"startLine": start[0], "startColumn": start[1], "endLine": end[0], "endColumn": end[1]}
    change = {"artifactLocation": _artifact(file, ctx.base),
              "replacements": [{"deletedRegion": region, "insertedContent": {"text": edit.text}}]}
    return {"description": {"text": fix["description"]}, "artifactChanges": [change]}


def _patch_edit(text: str, fix: dict[str, Any], ctx: _Context) -> Edit | None:
    as_fix = Fix("patch", fix["namespace"], fix["name"], fix["description"], fix["manifest"], tuple(fix["patch"]))
    try:
        return patch_edit(text, as_fix, ctx.default_namespace, fix.get("file") or "")
    except (ValueError, yaml.YAMLError):
        return None


def _manifest_text(fix: dict[str, Any]) -> str:
    return f"# {fix['description']}\n" + yaml.safe_dump(fix["manifest"], sort_keys=False, default_flow_style=False)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _artifact(file: str, base: Path) -> dict[str, Any]:
    path = Path(file)
    absolute = path if path.is_absolute() else (Path.cwd() / path)
    try:
        rel = absolute.resolve().relative_to(base)
    except ValueError:
        return {"uri": absolute.resolve().as_uri()}
    return {"uri": quote(rel.as_posix()), "uriBaseId": "%SRCROOT%"}


def _fingerprint(f: dict[str, Any]) -> str:
    """Stable across line moves and rewording: rule, object and key only."""
    return hashlib.sha256(f"{f['rule']}|{f['object']}|{f.get('key', '')}".encode()).hexdigest()[:32]


def _version() -> str:
    try:
        return version("netreason")
    except PackageNotFoundError:
        return "0"
