"""`lint` end to end as broken dependencies grow: the dependency rules and their fix rounds must stay linear.

    .venv/bin/python -m benchmarks.bench_broken_deps [--sizes 250,500,1000,2000]

Each size N is N namespaces, each with a client, a database, an ingress default deny and an allow whose
podSelector misspells the database's label, and a deps file declaring client -> database in each: N broken
dependencies, each with its typo'd policy as the likely cause and a fix to propose. Printed per size: CPU
seconds of the `lint` process (start-up included) and the growth against the previous size ÷ the size's growth
(1.0 is linear; the causes lookup and fix attribution were once products of dependencies and findings).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from .bench_truth import CLI, cpu_run


def _namespace(i: int) -> str:
    ns = f"n{i}"

    def deploy(name: str, port: int) -> str:
        return (f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\n"
                f"spec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n"
                f"    metadata: {{labels: {{app: {name}}}}}\n"
                f"    spec: {{containers: [{{name: c, image: x, ports: [{{containerPort: {port}}}]}}]}}\n")

    return (f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n" + deploy("client", 80)
            + deploy("database", 5432)
            + f"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: deny, namespace: {ns}}}\n"
            "spec: {podSelector: {}, policyTypes: [Ingress]}\n"
            + f"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: allow-db, namespace: {ns}}}\n"
            "spec:\n  podSelector: {matchLabels: {app: databse}}\n"
            "  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]\n")


def write_case(folder: Path, n: int) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    manifests, deps = folder / "cluster.yaml", folder / "deps.yaml"
    manifests.write_text("".join(_namespace(i) for i in range(n)))
    deps.write_text("".join(f"- {{from: client, to: database, namespace: n{i}, port: 5432}}\n" for i in range(n)))
    return manifests, deps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="250,500,1000,2000")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'namespaces':>10} {'cpu_s':>8} {'wall_s':>8} {'rss_mb':>8} {'growth/size':>12}")
    previous: tuple[int, float] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            manifests, deps = write_case(Path(tmp) / str(n), n)
            fig = cpu_run([*CLI, "lint", str(manifests), "--deps", str(deps), "-o", "json"], args.timeout)
            ratio = "" if previous is None else f"{(fig['cpu_s'] / previous[1]) / (n / previous[0]):.2f}"
            print(f"{n:>10} {fig['cpu_s']:>8} {fig['wall_s']:>8} {fig['maxrss_mb']:>8} {ratio:>12}"
                  + ("" if fig["ok"] else f"  FAILED: {fig['error']}"))
            previous = (n, fig["cpu_s"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
