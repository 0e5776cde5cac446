"""Cross-check netreason's workload-pair connectivity against IBM's network-config-analyzer.

    .venv/bin/python benchmarks/compare_nca.py --tier S [--nca PATH] [--show 20]

Generates the tier, asks NCA for its connectivity map per workload
(`-o txt_no_fw_rules --output_endpoints deployments`), computes netreason's, and compares
the allowed (protocol, port ranges) of every ordered pair of distinct workloads.
Exit code 1 when they disagree; the disagreements are printed and written to
benchmarks/out/nca-compare-<tier>.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.gen_cluster import DEFAULT_SEED, generate, write_cluster  # noqa: E402
from benchmarks.procs import find_nca, run  # noqa: E402
from benchmarks.tiers import TIERS  # noqa: E402

Ports = dict[str, tuple[tuple[int, int], ...]]  # protocol -> sorted inclusive ranges
ALL: Ports = {p: ((1, 65535),) for p in ("TCP", "UDP", "SCTP")}
_LINE = re.compile(r"^(?P<src>\S+)\[\w+\] => (?P<dst>\S+)\[\w+\] : (?P<conn>.+)$")
_GROUP = re.compile(r"\{([^}]*)\}")


def _ranges(text: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        out.append((int(lo), int(hi or lo)))
    return tuple(sorted(out))


def parse_nca_conn(conn: str) -> Ports:
    """`All connections` or `{protocols:TCP, UDP,dst_ports:53};{...}` -> ranges per protocol."""
    if conn.strip() == "All connections":
        return dict(ALL)
    ports: dict[str, list[tuple[int, int]]] = {}
    for group in _GROUP.findall(conn):
        protos_text, _, rest = group.partition("protocols:")[2].partition(",dst_ports:")
        dst = _ranges(rest.split(",src_ports")[0]) if rest else ((1, 65535),)
        for proto in (p.strip() for p in protos_text.split(",")):
            ports.setdefault(proto, []).extend(dst)
    return {p: _merge(rs) for p, rs in ports.items() if p in ALL}


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def nca_pairs(nca: str, manifests: Path) -> dict[tuple[str, str], Ports]:
    """NCA's allowed ports per (src workload id, dst workload id); IP-range lines skipped."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "conn.txt"
        cmd = [nca, "--connectivity", str(manifests), "-r", str(manifests), "-o", "txt_no_fw_rules",
               "--output_endpoints", "deployments", "-f", str(out)]
        proc = run(cmd, 1800, cwd=ROOT, quiet_stdout=True)
        if not proc.ok:
            raise RuntimeError(f"nca failed: {proc.error}")
        lines = out.read_text().splitlines()
    pairs = {}
    for line in lines:
        m = _LINE.match(line.strip())
        if m and m["src"] != m["dst"]:
            pairs[(m["src"], m["dst"])] = parse_nca_conn(m["conn"])
    return pairs


def netreason_pairs(manifests: Path) -> dict[tuple[str, str], Ports]:
    """netreason's allowed ports per ordered pair of distinct workloads with anything open."""
    import verifier

    conn = verifier.analyze(verifier.load_bundle([str(manifests)]))
    out = {}
    for src, dst, portset in conn.flows():
        if src != dst:
            out[(src, dst)] = {p: tuple(rs) for p, rs in portset.as_dict().items()}
    return out


def disagreements(nca: dict[tuple[str, str], Ports], ours: dict[tuple[str, str], Ports]) -> list[dict[str, Any]]:
    """Every pair where the two port sets differ, with both sides."""
    out = []
    for pair in sorted(set(nca) | set(ours)):
        a, b = nca.get(pair, {}), ours.get(pair, {})
        if a != b:
            out.append({"src": pair[0], "dst": pair[1], "nca": _show(a), "netreason": _show(b)})
    return out


def _show(ports: Ports) -> str:
    if ports == ALL:
        return "all"
    return "; ".join(f"{p} " + ",".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in rs)
                     for p, rs in sorted(ports.items())) or "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", choices=sorted(TIERS), default="S")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--nca", default=None, help="path to `nca` (default: look for it)")
    parser.add_argument("--show", type=int, default=20, help="disagreements to print")
    args = parser.parse_args(argv)
    nca = args.nca or find_nca(ROOT)
    if nca is None:
        parser.error("network-config-analyzer not found; see benchmarks/README.md")
    with tempfile.TemporaryDirectory() as tmp:
        write_cluster(generate(TIERS[args.tier], args.seed), Path(tmp), formats=("yaml",))
        theirs, ours = nca_pairs(nca, Path(tmp) / "yaml"), netreason_pairs(Path(tmp) / "yaml")
    diffs = disagreements(theirs, ours)
    report = {"tier": args.tier, "seed": args.seed, "nca_pairs": len(theirs), "netreason_pairs": len(ours),
              "disagreements": diffs}
    out = ROOT / "benchmarks" / "out" / f"nca-compare-{args.tier}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"pairs with something open: NCA {len(theirs)}, netreason {len(ours)}; disagreements: {len(diffs)}")
    for d in diffs[: args.show]:
        print(f"  {d['src']} -> {d['dst']}: NCA {d['nca']} | netreason {d['netreason']}")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
