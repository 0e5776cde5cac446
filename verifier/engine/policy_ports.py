"""What a rule's `ports` admit at a destination: the policy ports resolved on the destination pod."""

from __future__ import annotations

from ..model.bundle import PolicyPort, Protocol, Workload


def resolve_port(pp: PolicyPort, dst: Workload) -> tuple[int, int] | None:
    """The inclusive port range a policy port stands for at destination `dst`.

    API reference, NetworkPolicyPort.port: "If this is a named port, it refers to the
    named port on the pod" — the destination pod, whose container port must also have
    the rule's protocol. Returns None for a name the pod does not serve.
    """
    if not isinstance(pp.port, str):
        return numeric_range(pp)
    for cp in dst.ports:
        if cp.name == pp.port and cp.protocol == pp.protocol:
            return (cp.port, cp.port)
    return None


def numeric_range(pp: PolicyPort) -> tuple[int, int]:
    """The range of a policy port given by number, or by none (every port): the same at every destination."""
    if pp.port is None:
        return (1, 65535)
    assert not isinstance(pp.port, str), "a named port resolves on the destination: resolve_port"
    return (pp.port, pp.end_port if pp.end_port is not None else pp.port)


def ports_admit(ports: tuple[PolicyPort, ...] | None, dst: Workload, port: int, protocol: Protocol) -> bool:
    """Whether some policy port admits protocol/port at `dst` (no `ports`: every port)."""
    if ports is None:
        return True
    for pp in ports:
        rng = resolve_port(pp, dst)
        if pp.protocol == protocol and rng is not None and rng[0] <= port <= rng[1]:
            return True
    return False
