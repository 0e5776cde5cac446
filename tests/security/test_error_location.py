"""Finding 8: locating errors in single-line JSON was quadratic.

`documents._compose` padded each object's snippet with `column` spaces before re-parsing it; on one-line
JSON the column is the offset into the whole file (4k invalid items 5.6 s, 16k 89 s). The work is now
linear in the input, which the first test counts (no timing), and the lines stay right.
"""

from __future__ import annotations

import json

import yaml

import verifier
from verifier.input import documents

from .support import netreason


def _policies(count: int) -> dict:
    items = [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": f"p{i}", "namespace": "x"},
              "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 70000}]}]}} for i in range(count)]
    return {"apiVersion": "v1", "kind": "List", "items": items}


def test_locating_errors_in_one_line_json_reads_each_object_once(monkeypatch):
    text = json.dumps(_policies(2000))
    composed: list[int] = []
    real = yaml.compose

    def counting(stream, Loader):
        composed.append(len(stream))
        return real(stream, Loader=Loader)

    monkeypatch.setattr(documents.yaml, "compose", counting)
    bundle = verifier.load_text(text)
    assert len(bundle.issues) == 2000 and all(i.source.line == 1 for i in bundle.issues)
    assert sum(composed) <= 2 * len(text), f"{sum(composed):,} characters re-parsed for a {len(text):,}-character file"


def test_cli_reports_the_right_lines_in_one_line_and_pretty_json(tmp_path):
    doc = _policies(300)
    (tmp_path / "one.json").write_text(json.dumps(doc))
    (tmp_path / "pretty.json").write_text(json.dumps(doc, indent=2))
    one = netreason("lint", str(tmp_path / "one.json"), "-o", "json")
    pretty = netreason("lint", str(tmp_path / "pretty.json"), "-o", "json")
    assert "Traceback" not in one.stderr + pretty.stderr
    assert one.stderr.count("one.json:1: spec.ingress[0].ports[0].port: invalid port 70000") == 300
    lines = [json.dumps(doc, indent=2).splitlines().index(x) + 1 for x in json.dumps(doc, indent=2).splitlines()
             if '"port": 70000' in x][:1]
    assert f"pretty.json:{lines[0]}: spec.ingress[0].ports[0].port" in pretty.stderr, pretty.stderr[:500]
