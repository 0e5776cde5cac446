"""Render a Helm chart the way `helm template` does: with `helm` when on PATH, else Helm's own Go SDK.

`helm` is not packaged in Debian, so the test extras bring `helm-python-sdk`: a wheel that carries
`libhelm_c` (Helm v4's Go SDK behind a C ABI) and renders charts offline, with no binary to download.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any


class HelmUnavailable(Exception):
    """Neither a `helm` binary nor helm-python-sdk is installed (the reason is the message)."""


def engine() -> str:
    """Which renderer `render` uses: "helm" or "helm-python-sdk".

    Raises:
        HelmUnavailable: neither is installed.
    """
    if shutil.which("helm"):
        return "helm"
    try:
        import helm_python  # noqa: F401
    except (ImportError, OSError) as e:  # OSError: the wheel's native library does not load here
        raise HelmUnavailable(f"no helm binary on PATH and helm-python-sdk unusable ({e}); "
                              "pip install -e '.[test]' brings it on Linux x86_64") from None
    return "helm-python-sdk"


def render(chart: Path, values: dict[str, Any], release: str, namespace: str) -> str:
    """The chart's manifests as one multi-document YAML stream (NOTES.txt left out, as `helm template` does).

    Raises:
        HelmUnavailable: nothing can render charts here.
        RuntimeError: the chart failed to render (the message is Helm's).
    """
    if engine() == "helm":
        done = subprocess.run(["helm", "template", release, str(chart), "--namespace", namespace, "--values", "-"],
                              input=json.dumps(values), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        return done.stdout
    import helm_python as helm

    try:
        with helm.Chart.load(str(chart)) as loaded:
            files = loaded.render(values, name=release, namespace=namespace, is_install=True)
    except helm.HelmError as e:
        raise RuntimeError(str(e)) from None
    docs = [f"# Source: {name}\n{text.strip()}\n" for name, text in sorted(files.items())
            if name.endswith((".yaml", ".yml")) and text.strip()]
    return "---\n".join(docs)


def lint(chart: Path, values: dict[str, Any]) -> list[str]:
    """Helm's chart linter (`helm lint --strict`): its error and warning messages, empty when clean."""
    if engine() == "helm":
        done = subprocess.run(["helm", "lint", "--strict", str(chart), "--values", "-"], input=json.dumps(values),
                              capture_output=True, text=True)
        return [] if done.returncode == 0 else [done.stdout + done.stderr]
    import helm_python as helm

    report = helm.lint(str(chart), values, strict=True)
    return [m["error"] for m in report["messages"] if m["severity"] >= 2] + list(report["errors"])
