"""Snapshot every CLI and API output on the corpus apps and examples/shop, to prove a refactor changes none.

    .venv/bin/python benchmarks/outputs_snapshot.py capture /tmp/before     # on the old tree
    .venv/bin/python benchmarks/outputs_snapshot.py capture /tmp/after      # on the new tree
    .venv/bin/python benchmarks/outputs_snapshot.py compare /tmp/before /tmp/after

`capture` runs analyze, ask, lint, flows (and --exposure), check, diff and plan through the `netreason`
console script in every output format each offers, and POSTs the same inputs to a real `netreason serve`
(/v1/analyze, /v1/lint, /v1/diff, /v1/plan in each format), storing stdout, stderr and the exit code (or
HTTP status) of each run. `compare` lists every run whose stored output differs, and exits 1 if any does.

Normalised, and nothing else: how long an analysis took (`"seconds"` in JSON, "computed in N s" in the
HTML report), times of day and the links and ids a stored analysis gets (clock and random ids), and the
checkout's own paths (`<root>`, `<corpus>`, `<tmp>`); `flows -o summary` prints timings only and is not run.
Compare two captures made in the same checkout folder: text output wraps long paths at the terminal width.
The corpus is read from ../shared beside the checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
NETREASON = Path(sys.executable).with_name("netreason")

#: Only what carries the clock or a random id; everything else must match byte for byte.
VOLATILE = [
    # How long the analysis took (the JSON's `seconds`, the report's "computed in N s").
    (re.compile(r'("seconds": ?)\d+(?:\.\d+)?'), r"\1<s>"),
    (re.compile(r"computed in \d+(?:\.\d+)? s"), "computed in <s> s"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?(?: UTC)?"), "<time>"),
    (re.compile(r"/v1/analyses/[\w-]+(\?[^\s\"'<)]*)?"), "/v1/analyses/<id>"),
    (re.compile(r'"(analysis_id|id)": "[0-9a-f-]{8,}"'), r'"\1": "<id>"'),
]


@dataclass(frozen=True)
class App:
    """One bundle: manifest paths, its deps file, its default namespace, and one dependency to `check`."""

    name: str
    paths: tuple[Path, ...]
    deps: Path | None
    namespace: str
    probe: tuple[str, str, str] | None  # (from, to, port) for `check`


def corpus_apps() -> list[App]:
    index = yaml.safe_load((CORPUS / "index.yaml").read_text())
    apps = []
    for entry in index["apps"]:
        base = CORPUS / entry["dir"]
        deps = base / entry["deps"] if entry.get("deps") else None
        apps.append(App(entry["name"], tuple(base / m for m in entry["manifests"]), deps,
                        entry.get("default_namespace", "default"), _probe(deps, entry.get("default_namespace"))))
    shop = ROOT / "examples" / "shop"
    apps.append(App("examples-shop", (shop,), shop / "netreason.deps.yaml", "default",
                    ("shop/web", "shop/api", "8080")))
    return apps


def _probe(deps: Path | None, namespace: str | None) -> tuple[str, str, str] | None:
    if deps is None:
        return None
    entries = yaml.safe_load(deps.read_text()) or []
    if not entries:
        return None
    d = entries[0]
    ns = d.get("namespace") or namespace or "default"
    return f"{ns}/{d['from']}", f"{ns}/svc/{d['to']}", str(d["port"])


def cli_runs(app: App) -> Iterator[tuple[str, list[str]]]:
    paths = [str(p) for p in app.paths]
    common = [*paths, "--namespace", app.namespace] if app.namespace != "default" else paths
    deps = ["--deps", str(app.deps)] if app.deps else []
    for fmt in ("text", "json", "markdown", "html"):
        yield f"analyze.{fmt}", ["analyze", *paths, *(["-n", app.namespace] if app.namespace != "default" else []),
                                 *deps, "-o", fmt]
    for fmt in ("text", "json", "markdown", "sarif"):
        yield f"lint.{fmt}", ["lint", *common, *deps, "-o", fmt]
    for fmt in ("table", "json", "csv", "dot"):
        yield f"flows.{fmt}", ["flows", *common, "-o", fmt]
    for fmt in ("table", "json"):
        # -n filters rows, which --exposure has none of: -A keeps -n as the namespace of objects naming none
        all_ns = ["-A"] if app.namespace != "default" else []
        yield f"flows-exposure.{fmt}", ["flows", *common, *all_ns, "--exposure", "-o", fmt]
    for fmt in ("markdown", "json"):
        yield f"plan.{fmt}", ["plan", *common, *deps, "-o", fmt]
    for n, question in enumerate(("who lost DNS?", "which dependencies are broken?", "what breaks?")):
        yield f"ask.{n}.text", ["ask", *common, *deps, question]
    yield "ask.json", ["ask", *common, *deps, "who lost DNS?", "-o", "json"]
    if app.probe:
        src, dst, port = app.probe
        for fmt in ("text", "json"):
            yield f"check.{fmt}", ["check", *common, "--from", src, "--to", dst, "--port", port, "-o", fmt]
        yield "check.typo.text", ["check", *common, "--from", src + "x", "--to", dst, "--port", port]
    # A change: the app's objects without their NetworkPolicies, then with them.
    old, new = _sides(app)
    for fmt in ("text", "json", "markdown", "sarif"):
        yield f"diff.{fmt}", ["diff", str(old), str(new), *deps, *(["-n", app.namespace]), "-o", fmt]


def _objects(app: App) -> list[dict[str, Any]]:
    docs = []
    for p in app.paths:
        for f in sorted(p.rglob("*.y*ml")) if p.is_dir() else [p]:
            if f.name != "netreason.deps.yaml":
                docs += [d for d in yaml.safe_load_all(f.read_text()) if isinstance(d, dict)]
    return docs


def _sides(app: App) -> tuple[Path, Path]:
    """Two files in a fixed temporary folder (outputs name it `<tmp>`): without and with the policies."""
    out = Path(tempfile.gettempdir()) / "netreason-outputs-snapshot" / app.name
    out.mkdir(parents=True, exist_ok=True)
    docs = _objects(app)
    old, new = out / "without-policies.yaml", out / "with-policies.yaml"
    old.write_text(yaml.safe_dump_all([d for d in docs if d.get("kind") != "NetworkPolicy"], sort_keys=False))
    new.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return old, new


def run_cli(args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "160"}
    env.pop("NETREASON_MODEL", None)
    proc = subprocess.run([str(NETREASON), *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          stdin=subprocess.DEVNULL, timeout=600)
    return {"args": args, "exit": proc.returncode, "stdout": normalise(proc.stdout), "stderr": normalise(proc.stderr)}


def normalise(text: str) -> str:
    for pattern, repl in VOLATILE:
        text = pattern.sub(repl, text)
    # Paths differ between two checkouts of one commit: name them by role.
    text = text.replace(str(CORPUS), "<corpus>").replace(str(CORPUS.resolve()), "<corpus>")
    return text.replace(str(ROOT), "<root>").replace(tempfile.gettempdir(), "<tmp>")


def api_runs(app: App) -> Iterator[tuple[str, str, dict[str, Any]]]:
    base = app.paths[0] if app.paths[0].is_dir() else app.paths[0].parent
    files = [{"path": str(f.relative_to(base)), "content": f.read_text()}
             for p in app.paths for f in (sorted(p.rglob("*.y*ml")) if p.is_dir() else [p])
             if f.name != "netreason.deps.yaml"]
    deps = app.deps.read_text() if app.deps else None
    snap = {"files": files, "namespace": app.namespace, **({"deps": deps} if deps else {})}
    for fmt in ("json", "markdown", "html", "sarif"):
        yield f"api-analyze.{fmt}", "/v1/analyze", {**snap, "format": fmt}
    for fmt in ("json", "markdown", "sarif", "text"):
        yield f"api-lint.{fmt}", "/v1/lint", {**snap, "format": fmt}
    for fmt in ("json", "markdown", "html"):
        yield f"api-plan.{fmt}", "/v1/plan", {**snap, "format": fmt}
    old, _ = _sides(app)
    before = {"manifests": old.read_text(), "namespace": app.namespace}
    after = {k: v for k, v in snap.items() if k != "deps"}
    for fmt in ("json", "markdown", "sarif", "text"):
        yield f"api-diff.{fmt}", "/v1/diff", {"base": before, "head": after, **({"deps": deps} if deps else {}),
                                              "format": fmt}


def serve(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "NETREASON_DATABASE_URL": f"sqlite:///{data / 'db.sqlite'}", "NETREASON_LINK_SECRET": "x"}
    env.pop("NETREASON_MODEL", None)
    env.pop("NETREASON_API_TOKENS", None)
    proc = subprocess.Popen([str(NETREASON), "serve", "--port", str(port), "--insecure-no-auth"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("netreason serve did not come up")


def capture(out: Path, workers: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    apps = corpus_apps()
    jobs = [(app.name, key, args) for app in apps for key, args in cli_runs(app)]
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda j: (j[0], j[1], run_cli(j[2])), jobs))
    with tempfile.TemporaryDirectory() as data:
        proc, url = serve(Path(data))
        try:
            with httpx.Client(base_url=url, timeout=600) as client:
                for app in apps:
                    for key, path, body in api_runs(app):
                        r = client.post(path, json=body)
                        results.append((app.name, key, {"args": [path], "exit": r.status_code,
                                                        "stdout": normalise(r.text), "stderr": ""}))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    for app_name, key, result in results:
        (out / f"{app_name}.{key}.out").write_text(result["stdout"])
        if result["stderr"]:
            (out / f"{app_name}.{key}.err").write_text(result["stderr"])
    summary = {f"{a}.{k}": {"args": r["args"], "exit": r["exit"]} for a, k, r in results}
    (out / "runs.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(f"{len(results)} runs stored in {out}")


def compare(a: Path, b: Path) -> int:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    differ = [n for n in names if not (a / n).exists() or not (b / n).exists()
              or normalise((a / n).read_text()) != normalise((b / n).read_text())]
    runs = json.loads((a / "runs.json").read_text())
    for n in differ:
        print(f"differs: {n}")
    print(f"{len(runs)} runs, {len(names)} files compared, {len(differ)} differ")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("out", type=Path)
    c.add_argument("--workers", type=int, default=2)
    d = sub.add_parser("compare")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.cmd == "capture":
        capture(args.out, args.workers)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
