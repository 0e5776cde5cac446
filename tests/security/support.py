"""Helpers of the hostile-caller tests: the console script in a subprocess, a small bundle to attack with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "shop")


def netreason(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the `netreason` console script (the one installed beside this interpreter) in a subprocess."""
    script = Path(sys.executable).with_name("netreason")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "service"]
    # The developer's own NETREASON_MODEL must not leak into a test.
    full_env = {k: v for k, v in os.environ.items() if k != "NETREASON_MODEL"}
    full_env.update(env or {})
    return subprocess.run([*command, *args], capture_output=True, text=True, env=full_env, input=stdin,
                          timeout=timeout, cwd=ROOT)


def pods_yaml(count: int, namespace: str = "load") -> str:
    """`count` plain Pods in one namespace, each with a port: the all-pairs worst case without policies."""
    docs = []
    for i in range(count):
        docs.append(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: {namespace}, labels: {{app: "
                    f"p{i}}}}}\n"
                    f"spec: {{containers: [{{name: c, image: x, ports: [{{containerPort: 8080}}]}}]}}\n")
    return "---\n".join(docs)


DEFAULT_DENY = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: load}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"""
