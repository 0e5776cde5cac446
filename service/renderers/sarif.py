"""SARIF 2.1.0 rendering of findings, for GitHub code scanning and reviewdog.

SARIF 2.1.0 (OASIS), §3.13 sarifLog: `version` "2.1.0" and `runs`; §3.14 run: `tool`
(with `driver.name`) and `results`; §3.27 result: `message` and, for code scanning, a
`physicalLocation` whose `artifactLocation.uri` is relative to the repository root
(`uriBaseId` %SRCROOT%) and whose `region.startLine` is 1-based.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

from verifier.rules.catalog import RULES

SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
HELP_URI = "https://github.com/netreason/netreason/blob/main/docs/rules.md#"


def sarif_log(findings: list[dict[str, Any]], root: str | None = None) -> dict[str, Any]:
    """A SARIF log with one run: every rule of the catalog, one result per finding (lint JSON entries)."""
    index = {r.id: i for i, r in enumerate(RULES)}
    base = Path(root or os.getcwd()).resolve()
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "netreason", "version": _version(), "informationUri": HELP_URI.split("/blob/")[0],
                "rules": [_rule(r) for r in RULES],
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri() + "/"}},
            "results": [_result(f, index, base) for f in findings],
        }],
    }


def render_sarif(doc: dict[str, Any], root: str | None = None) -> str:
    """The SARIF text for a lint document (or any document with `findings`)."""
    return json.dumps(sarif_log(doc["findings"], root), indent=2)


def _rule(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "name": "".join(part.capitalize() for part in r.id.split("-")),
        "shortDescription": {"text": r.title}, "fullDescription": {"text": r.help},
        "help": {"text": r.help, "markdown": f"**{r.title}**\n\n{r.help}"},
        "helpUri": HELP_URI + r.id,
        "defaultConfiguration": {"level": LEVELS[r.severity]},
    }


def _result(f: dict[str, Any], index: dict[str, int], base: Path) -> dict[str, Any]:
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
    location = _location(f, base)
    if location:
        result["locations"] = [location]
    return result


def _location(f: dict[str, Any], base: Path) -> dict[str, Any] | None:
    file = f.get("file")
    if not file or file == "-":
        return None
    physical: dict[str, Any] = {"artifactLocation": _artifact(file, base)}
    if f.get("line"):
        physical["region"] = {"startLine": int(f["line"])}
    return {"physicalLocation": physical, "logicalLocations": [{"fullyQualifiedName": f["object"]}]}


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
