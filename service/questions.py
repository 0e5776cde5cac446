"""Plain-language reachability questions answered by the verifier alone.

"can api reach postgres:5432?", "can shop/web talk to payments/payments-api on port 8443/tcp".
Names resolve to workloads by `namespace/name`, by a unique workload name, or through a
Service's selector; a missing port means every port the destination declares. The chat
endpoint and `netreason ask` use this for the ground truth beside a model's answer.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from verifier.errors import InputError
from verifier.explain import Explainer, Verdict
from verifier.model import Bundle, Workload
from verifier.selectors import matches
from verifier.objects import selector_from

_QUESTION = re.compile(
    r"""(?:can|does|is)\s+(?P<src>[\w.\-/]+)\s+
        (?:reach|talk\s+to|connect\s+to|access|call|open\s+a\s+connection\s+to|allowed\s+to\s+reach)\s+
        (?P<dst>[\w.\-/]+?)
        (?::(?P<port>\d+)|\s+on\s+(?:port\s+)?(?P<port2>\d+))?
        (?:\s*/\s*|\s+)?(?P<proto>tcp|udp|sctp)?\s*\??\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


class AmbiguousName(InputError):
    """A short name that several workloads share."""


@dataclass(frozen=True)
class Question:
    src: str
    dst: str
    port: int | None = None
    protocol: str = "TCP"


def parse_question(text: str) -> Question | None:
    """A reachability question in `text`, or None when it is not one."""
    m = _QUESTION.search(text.strip())
    if not m:
        return None
    port = m.group("port") or m.group("port2")
    return Question(m.group("src"), m.group("dst"), int(port) if port else None, (m.group("proto") or "TCP").upper())


def resolve(bundle: Bundle, name: str, namespace: str | None = None) -> list[Workload]:
    """Workloads a name stands for: `ns/name`, a unique workload name, or a Service's pods.

    Raises:
        InputError: nothing matches (with suggestions); AmbiguousName: several do.
    """
    ns: str | None
    if "/" in name:
        ns, _, short = name.partition("/")
    else:
        ns, short = namespace, name.split(".")[0]
        if namespace is None and "." in name:
            ns = name.split(".")[1]  # svc.namespace[.svc.cluster.local]
    found = [w for w in bundle.workloads if w.name == short and (ns is None or w.namespace == ns)]
    if not found:
        found = _service_backends(bundle, short, ns)
    if not found:
        known = sorted({w.id for w in bundle.workloads} | {w.name for w in bundle.workloads})
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"no workload or Service named {name!r}{hint}")
    namespaces = {w.namespace for w in found}
    if len(namespaces) > 1:
        options = ", ".join(sorted(w.id for w in found))
        raise AmbiguousName(f"{name!r} is ambiguous: {options}; say namespace/name")
    return found


def _service_backends(bundle: Bundle, name: str, ns: str | None) -> list[Workload]:
    out: list[Workload] = []
    for svc in bundle.services:
        if svc.name == name and (ns is None or svc.namespace == ns) and svc.selector:
            sel = selector_from({"matchLabels": svc.selector})
            out += [w for w in bundle.workloads if w.namespace == svc.namespace and matches(sel, w.labels)]
    return out


def answer(bundle: Bundle, q: Question, explainer: Explainer | None = None) -> list[Verdict]:
    """Verdicts for every (source, destination, port) the question stands for."""
    ex = explainer or Explainer(bundle)
    verdicts = []
    for s in resolve(bundle, q.src):
        for d in resolve(bundle, q.dst):
            ports = [q.port] if q.port else sorted({p.port for p in d.ports if p.protocol == q.protocol})
            if not ports:
                raise InputError(f"{d.id} declares no {q.protocol} port; ask with a port, e.g. {q.dst}:8080")
            verdicts += [ex.check(s.id, d.id, port, q.protocol) for port in ports]  # type: ignore[arg-type]
    return verdicts
