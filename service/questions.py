"""Plain-language reachability questions answered by the verifier alone.

"can api reach postgres:5432?", "can shop/web talk to payments/payments-api on port 8443/tcp".
Names resolve to workloads by `namespace/name`, by a unique workload name, or through a
Service's selector; a missing port means every port the destination declares. The chat
endpoint and `netreason ask` use this for the ground truth beside a model's answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from verifier.engine.explain import Explainer, Verdict
from verifier.model.bundle import Bundle, Workload

from .targets import AmbiguousName, Port, destinations, sources

__all__ = ["AmbiguousName", "Question", "answer", "parse_question", "resolve"]

_QUESTION = re.compile(
    r"""(?:can|does|is)\s+(?P<src>[\w.\-/]+)\s+
        (?:reach|talk\s+to|connect\s+to|access|call|open\s+a\s+connection\s+to|allowed\s+to\s+reach)\s+
        (?P<dst>[\w.\-/]+?)
        (?::(?P<port>[a-z0-9][a-z0-9-]*)|\s+on\s+(?:port\s+)?(?P<port2>\d+|(?!(?:tcp|udp|sctp)\b)[a-z][a-z0-9-]*(?=\s*(?:/|\?|$|\s))))?
        (?:\s*/\s*|\s+)?(?P<proto>tcp|udp|sctp)?\s*\??\s*$""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class Question:
    src: str
    dst: str
    port: Port = None  # a number, a port name, or None for every declared port
    protocol: str = "TCP"


def parse_question(text: str) -> Question | None:
    """A reachability question in `text`, or None when it is not one."""
    m = _QUESTION.search(text.strip())
    if not m:
        return None
    port = m.group("port") or m.group("port2")
    number: Port = int(port) if port and port.isdigit() else port or None
    return Question(m.group("src"), m.group("dst"), number, (m.group("proto") or "TCP").upper())


def resolve(bundle: Bundle, name: str, namespace: str | None = None) -> list[Workload]:
    """Workloads a name stands for: `ns/name`, a unique workload name, `svc/NAME`, or a Service's pods.

    Raises:
        InputError: nothing matches (with suggestions); AmbiguousName: several do.
    """
    return sources(bundle, name, namespace)


def answer(bundle: Bundle, q: Question, explainer: Explainer | None = None,
           namespace: str | None = None) -> list[Verdict]:
    """Verdicts for every (source, destination, port) the question stands for.

    A destination Service's port is checked at the pods it selects, on the port its targetPort
    maps to; each verdict's `via` says so (see `service.targets`).
    """
    ex = explainer or Explainer(bundle)
    verdicts = []
    for s in sources(bundle, q.src, namespace):
        for t in destinations(bundle, q.dst, q.port, q.protocol, namespace):
            # parse_question only produces TCP, UDP or SCTP; its field is typed str
            v = ex.check(s.id, t.workload.id, t.port, q.protocol)  # type: ignore[arg-type]
            verdicts.append(replace(v, via=t.via) if t.via else v)
    return verdicts
