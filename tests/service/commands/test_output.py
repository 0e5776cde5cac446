"""`emit` writes long documents in line-aligned slices: the same bytes, to stdout and to --output-file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.commands.output import pieces

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("text", ["", "x", "\n", "a\nb", "a\nb\n", "line\n" * 1000, "no break " * 500])
@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20])
def test_pieces_rejoin_to_the_text_and_end_at_line_breaks(text: str, size: int) -> None:
    parts = list(pieces(text, size))
    assert "".join(parts) == text
    assert all(p.endswith("\n") for p in parts[:-1])
    assert all(len(p) >= size for p in parts[:-1])  # never shorter than a slice, except the last


def test_a_document_over_one_slice_is_written_whole(tmp_path: Path) -> None:
    """A lint document of a few MB (several slices) to stdout and to a file: both equal, valid JSON."""
    manifests = tmp_path / "m.yaml"
    docs = []
    for i in range(1500):
        docs.append(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: ns{i % 50}\n"
                    f"  labels: {{app: a{i}}}\nspec:\n  containers: [{{name: c, image: i}}]\n")
        docs.append(f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np{i}\n"
                    f"  namespace: ns{i % 50}\nspec:\n  podSelector: {{matchLabels: {{app: typo{i}}}}}\n"
                    f"  policyTypes: [Ingress]\n")
    manifests.write_text("---\n".join(docs))
    cmd = [sys.executable, "-m", "service", "lint", str(manifests), "-o", "json", "--fail-on", "never"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=True).stdout
    assert len(out) > 2 * (1 << 20)
    target = tmp_path / "lint.json"
    subprocess.run([*cmd, "--output-file", str(target)], cwd=ROOT, capture_output=True, timeout=300, check=True)
    assert target.read_text(encoding="utf-8") == out
    doc = json.loads(out)
    assert out == json.dumps(doc, indent=2) + "\n"  # nothing lost or doubled at the slices' seams
    assert doc["summary"]["findings"] >= 1500


@pytest.mark.parametrize("data", [b'{\n  "a": 1\n}', b'{\n  "a": 1\n}\n', b""])
def test_bytes_are_written_as_they_are_with_one_final_line_break(data: bytes, tmp_path: Path) -> None:
    # JSON reaches `emit` as the encoder's bytes (`service.outputs.command_output`), to stdout or a file
    import click
    from click.testing import CliRunner

    from service.commands.output import emit

    target = tmp_path / "out.json"

    @click.command()
    @click.option("--to-file", is_flag=True)
    def cmd(to_file: bool) -> None:
        emit(data, "json", str(target) if to_file else None)

    expected = data if data.endswith(b"\n") else data + b"\n"
    assert CliRunner().invoke(cmd, []).stdout_bytes == expected
    result = CliRunner().invoke(cmd, ["--to-file"])
    assert result.stdout_bytes == b"" and target.read_bytes() == expected
