"""The Dockerfile, checked without a Docker daemon (none runs here, and base images cannot be pulled):
its stages and final-stage rules read from the file, then its ENTRYPOINT + CMD and HEALTHCHECK run on this
machine with the image's environment, state directory and port mapped onto a scratch directory.

Not covered here: the image build itself (`docker build`), and a real read-only root filesystem.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx

from service.commands.serve_cmd import serve

from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
BIN = Path(sys.executable).parent


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(m.group(1).upper(), m.group(2).strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", joined, re.M)]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for ins in _instructions(DOCKERFILE):
        if ins[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(ins)
    return stages


FINAL = _stages()[-1]


def _one(name: str) -> str:
    (value,) = [args for ins, args in FINAL if ins == name]
    return value


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for ins, args in FINAL:
        if ins == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(args)))
    return env


def _port() -> int:
    return int(_one("EXPOSE"))


def test_multi_stage_with_nothing_to_build_with_in_the_final_stage() -> None:
    stages = _stages()
    assert len(stages) >= 2
    assert any(ins == "COPY" and args.startswith("--from=build ") for ins, args in FINAL)
    final_runs = " ".join(args for ins, args in FINAL if ins == "RUN")
    assert not re.search(r"\b(apt-get|apk|gcc|make|build-essential|pip)\b", final_runs)
    build_runs = " ".join(args for ins, args in stages[0] if ins == "RUN")
    assert "pip uninstall --yes pip" in build_runs  # the copied virtualenv carries no installer


def test_the_image_copies_every_package_the_project_ships() -> None:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in include}
    copied = {src for ins, args in _stages()[0] if ins == "COPY" for src in args.split()[:-1]}
    assert packages <= copied and {"pyproject.toml", "README.md"} <= copied
    kept = {line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    assert packages | {"pyproject.toml", "README.md"} == kept


def test_non_root_state_in_a_volume_and_serving_on_every_interface() -> None:
    user = _one("USER").split(":")
    assert all(part.isdigit() and int(part) != 0 for part in user)
    env = _env()
    assert env["NETREASON_DATABASE_URL"] == "sqlite:////var/lib/netreason/netreason.db"
    assert json.loads(_one("VOLUME")) == ["/var/lib/netreason"]
    assert env["HOME"].startswith("/var/lib/netreason") and env["TMPDIR"] == "/tmp"
    assert json.loads(_one("ENTRYPOINT")) == ["netreason"]
    assert json.loads(_one("CMD")) == ["serve", "--host", "0.0.0.0", "--port", str(_port())]
    assert "/healthz" in _one("HEALTHCHECK") and f":{_port()}/" in _one("HEALTHCHECK")


def test_the_port_is_the_same_everywhere_and_is_serves_default_port() -> None:
    default = next(p.default for p in serve.params if p.name == "port")
    assert _port() == default == 8000
    values = (ROOT / "deploy" / "helm" / "netreason" / "values.yaml").read_text()
    assert f"containerPort: {default}" in values
    readme = (ROOT / "README.md").read_text()
    said = re.findall(r"serve [^`|\n]*--port (\d+)", readme)
    assert said and set(said) == {str(default)}


def test_the_images_command_serves_and_its_healthcheck_passes(tmp_path: Path) -> None:
    """ENTRYPOINT + CMD with the image's ENV, /var/lib/netreason and /tmp mapped into tmp_path."""
    volume, tmp = tmp_path / "var-lib-netreason", tmp_path / "tmp"
    volume.mkdir()
    tmp.mkdir()
    port = free_port()

    def mapped(value: str) -> str:
        value = value.replace("/var/lib/netreason", str(volume)).replace("/opt/netreason/bin", str(BIN))
        return value.replace(f":{_port()}/", f":{port}/").replace("$PATH", os.environ["PATH"])

    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETREASON_", "XDG_", "PROMETHEUS_"))}
    env.update({k: mapped(v) for k, v in _env().items()})
    env["TMPDIR"] = str(tmp)
    command = [*json.loads(_one("ENTRYPOINT")), *json.loads(_one("CMD"))]
    command[command.index("--port") + 1] = str(port)
    env["NETREASON_API_TOKENS"] = "t0k"
    proc = subprocess.Popen(command, env=env, cwd=volume, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    health = json.loads(re.search(r"CMD\s+(\[.*\])", _one("HEALTHCHECK")).group(1))  # type: ignore[union-attr]
    health = [mapped(part) for part in health]
    try:
        deadline = time.monotonic() + 30
        while subprocess.run(health, env=env, capture_output=True).returncode != 0:
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "the image's command did not become healthy"
            time.sleep(0.3)
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["database"] == "sqlite"
        assert (volume / "netreason.db").is_file()  # state only in the volume
    finally:
        proc.terminate()
        proc.wait(timeout=20)
