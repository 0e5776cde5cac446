"""Conversations about a cluster: questions, follow-ups, and the threads they are stored in.

A turn is answered twice over. The verifier answers first: the question ("can api reach postgres:5432?")
is parsed by `service.questions` and every connection it stands for is checked, so each reply carries
the ground truth. With a model configured, the model answers the same question with the `ask@1` prompt
(earlier turns included) and its claims are checked against that ground truth.

Follow-ups reuse the thread's previous question: "and from the marketing namespace?" replaces its source
by every workload of namespace marketing; "and to web?" its destination; "and on port 9090?" its port.
A thread keeps the cluster snapshot its first turn used, so follow-ups are asked of the same revision.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verifier.model.errors import InputError
from verifier.engine.explain import Explainer, Verdict
from verifier.engine.export import side_json
from verifier.model.bundle import Bundle

from .pipeline import Analysis, analysis_json
from .questions import AmbiguousName, Question, answer, parse_question, resolve
from .store import Store, ThreadMessage
from .truth import Truth

#: The library prompt a chat turn asks the model with.
CHAT_PROMPT = "ask@1"
#: How many earlier messages of a thread the model is shown.
HISTORY_MESSAGES = 6
#: Characters of each earlier message the model is shown.
HISTORY_CLIP = 600
#: Source × destination workload pairs checked at most per question (a namespace may hold hundreds).
MAX_PAIRS = 200

NO_MODEL_HINT = "No model configured (NETREASON_MODEL): this is the verifier's answer alone."

ModelRunner = Callable[[Truth, Mapping[str, Any]], Awaitable[Analysis]]
#: Loads the truth before the change (the previous revision), for "what does this change break?".
BaseLoader = Callable[[], Awaitable["Truth | None"]]


# --- questions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSide:
    """One side of a question: a name `questions.resolve` understands, or every workload of a namespace."""

    ref: str
    namespace: bool = False

    def label(self) -> str:
        return f"namespace {self.ref}" if self.namespace else self.ref

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "namespace": self.namespace}


@dataclass(frozen=True)
class ChatQuestion:
    """A reachability question whose endpoints may be whole namespaces; `port` None = every declared port."""

    src: QuestionSide
    dst: QuestionSide
    port: int | str | None = None  # a named port stays a name: each destination resolves it
    protocol: str = "TCP"

    def sentence(self) -> str:
        """The question in words, as the reply restates it."""
        where = f" on {self.protocol}/{self.port}" if self.port else (
            f" on its {self.protocol} ports" if not self.dst.namespace else f" on their {self.protocol} ports")
        src = f"the workloads of {self.src.label()}" if self.src.namespace else self.src.ref
        dst = f"the workloads of {self.dst.label()}" if self.dst.namespace else self.dst.ref
        return f"can {src} reach {dst}{where}?"

    def to_json(self) -> dict[str, Any]:
        return {"src": self.src.to_json(), "dst": self.dst.to_json(), "port": self.port, "protocol": self.protocol}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChatQuestion:
        """The inverse of `to_json` (what a stored turn holds)."""
        return cls(QuestionSide(**data["src"]), QuestionSide(**data["dst"]), data.get("port"),
                   data.get("protocol", "TCP"))


_LEAD = r"^\s*(?:(?:and|but|ok|so)\s+)?(?:(?:what|how)\s+about\s+)?"
_PORT = r"(?:(?::|\s+on\s+(?:port\s+)?|\s+port\s+)(?P<port>\d{1,5}))?(?:\s*/\s*|\s+)?(?P<proto>tcp|udp|sctp)?"
_FOLLOW_ENDPOINT = re.compile(_LEAD + r"(?P<dir>from|to)\s+(?P<target>.+?)" + _PORT + r"\s*[?.!]*\s*$", re.I)
_FOLLOW_PORT = re.compile(_LEAD
                          + r"(?:(?:on|to|at)\s+)?(?:port\s+)?(?P<port>\d{1,5})(?:\s*/\s*|\s+)?(?P<proto>tcp|udp|sctp)?"
                          r"\s*[?.!]*\s*$", re.I)
_NAMESPACE_TARGET = re.compile(
    r"^(?:the\s+)?(?:(?:pods|workloads|everything|anything)\s+in\s+(?:the\s+)?)?"
    r"(?:(?:namespace|ns)\s+(?P<a>[\w.-]+)|(?P<b>[\w.-]+)\s+(?:namespace|ns))$", re.I)


def namespaces_of(bundle: Bundle) -> set[str]:
    """Every namespace the bundle declares or holds a workload in."""
    return set(bundle.namespaces) | {w.namespace for w in bundle.workloads}


def endpoint_for(bundle: Bundle, text: str) -> QuestionSide:
    """What a name in a question stands for: "the marketing namespace", a workload or Service, or a bare
    namespace name that names no workload ("from marketing")."""
    text = text.strip()
    m = _NAMESPACE_TARGET.match(text)
    if m:
        return QuestionSide(m.group("a") or m.group("b"), namespace=True)
    name = re.sub(r"^the\s+", "", text, flags=re.I)
    try:
        resolve(bundle, name)
    except AmbiguousName:
        return QuestionSide(name)
    except InputError:
        return QuestionSide(name, namespace=name in namespaces_of(bundle))
    return QuestionSide(name)


def parse_followup(text: str, previous: ChatQuestion, bundle: Bundle) -> ChatQuestion | None:
    """`previous` with one part replaced, for "and from X?", "what about to Y:8080?", "and on port 53/udp?".

    None when `text` is not such a follow-up.
    """
    m = _FOLLOW_ENDPOINT.match(text)
    if m and re.match(r"^(?:port\s+)?\d{1,5}$", m.group("target").strip(), re.I) and not m.group("port"):
        m = None  # "and to port 9999?" asks about a port, not a workload named "port 9999"
    if m:
        target = endpoint_for(bundle, m.group("target"))
        port = int(m.group("port")) if m.group("port") else previous.port
        proto = (m.group("proto") or previous.protocol).upper()
        if m.group("dir").lower() == "from":
            return ChatQuestion(target, previous.dst, port, proto)
        return ChatQuestion(previous.src, target, port if m.group("port") else None, proto)
    m = _FOLLOW_PORT.match(text)
    if m:
        proto = (m.group("proto") or previous.protocol).upper()
        return ChatQuestion(previous.src, previous.dst, int(m.group("port")), proto)
    return None


def interpret(text: str, previous: ChatQuestion | None, bundle: Bundle) -> tuple[ChatQuestion | None, bool]:
    """The question a turn asks and whether it is a follow-up of `previous`; (None, False) for anything else."""
    q = parse_question(text)
    if q is not None:
        return _from_question(q, bundle), False
    if previous is not None:
        follow = parse_followup(text, previous, bundle)
        if follow is not None:
            return follow, True
    return None, False


def _from_question(q: Question, bundle: Bundle) -> ChatQuestion:
    return ChatQuestion(endpoint_for(bundle, q.src), endpoint_for(bundle, q.dst), q.port, q.protocol)


# --- the verifier's answer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroundAnswer:
    """The verifier's verdicts for a question; `skipped` pairs past `MAX_PAIRS`; `error` when it cannot answer."""

    verdicts: tuple[Verdict, ...] = ()
    skipped: int = 0
    error: str | None = None

    @property
    def allowed(self) -> int:
        return sum(v.allowed for v in self.verdicts)


def ground_answer(bundle: Bundle, q: ChatQuestion) -> GroundAnswer:
    """Check every (source, destination, port) the question stands for; never raises for a bad name."""
    explainer = Explainer(bundle)
    try:
        pairs = [(s, d) for s in _refs(bundle, q.src, q, as_dst=False) for d in _refs(bundle, q.dst, q, as_dst=True)]
        verdicts: list[Verdict] = []
        for s, d in pairs[:MAX_PAIRS]:
            found = answer(bundle, Question(s, d, q.port, q.protocol), explainer)
            # A pod's traffic to itself is not what a namespace-wide question asks about.
            verdicts += [v for v in found if v.src != v.dst or not (q.src.namespace or q.dst.namespace)]
    except InputError as e:
        return GroundAnswer(error=str(e))
    return GroundAnswer(tuple(verdicts), max(0, len(pairs) - MAX_PAIRS))


def _refs(bundle: Bundle, ep: QuestionSide, q: ChatQuestion, *, as_dst: bool) -> list[str]:
    if not ep.namespace:
        return [ep.ref]
    members = [w for w in bundle.workloads if w.namespace == ep.ref]
    if as_dst and q.port is None:
        members = [w for w in members if any(p.protocol == q.protocol for p in w.ports)]
    if not members:
        known = ", ".join(sorted(namespaces_of(bundle))) or "none"
        what = f"no workload declaring a {q.protocol} port" if as_dst and q.port is None else "no workloads"
        raise InputError(f"namespace {ep.ref!r} has {what} in this snapshot (namespaces: {known})")
    return sorted(w.id for w in members)


def verdict_item(v: Verdict) -> dict[str, Any]:
    """One checked connection as JSON: endpoints, port, verdict, and each side's reasons."""
    return {"from": v.src, "to": v.dst, "port": v.port, "protocol": v.protocol, "allowed": v.allowed,
            "egress": side_json(v.egress), "ingress": side_json(v.ingress),
            "reason": _reason(v), "via": v.via or None}


def _reason(v: Verdict) -> str:
    # The Service mapping first: the port asked about is not the port checked.
    via = f"via {v.via}; " if v.via else ""
    return via + _sides(v)


def _sides(v: Verdict) -> str:
    if v.allowed:
        return f"egress: {v.egress.explain()}; ingress: {v.ingress.explain()}"
    blocking = [f"{side} at {where}: {sv.explain()}" for side, where, sv in
                (("egress", v.src, v.egress), ("ingress", v.dst, v.ingress)) if not sv.allowed]
    return "; ".join(blocking)


def headline(q: ChatQuestion | None, ground: GroundAnswer | None, *, model_answered: bool = False) -> str:
    """The reply's first sentence: the verifier's yes, no or partly (or why it cannot say).

    A message that is no reachability question gets the model's answer when a model answered, else a usage hint.
    """
    if (q is None or ground is None) and model_answered:
        return "The model's answer, each claim checked by the verifier:"
    if q is None or ground is None:
        return ("I answer reachability questions, e.g. \"can api reach postgres:5432?\", "
                "and follow-ups such as \"and from the marketing namespace?\".")
    if ground.error:
        return f"The verifier cannot answer that: {ground.error}"
    n, ok = len(ground.verdicts), ground.allowed
    if n == 0:
        return "There is no connection to check for that question."
    if ok == n:
        return "Yes: " + ("the connection is allowed." if n == 1 else f"all {n} connections are allowed.")
    if ok == 0:
        return "No: " + ("the connection is denied." if n == 1 else f"all {n} connections are denied.")
    return f"Partly: {ok} of {n} connections are allowed."


# --- the thread -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadContext:
    """What a thread holds before a new turn: recent messages, the last question, the pinned snapshot."""

    history: tuple[ThreadMessage, ...] = ()
    previous: ChatQuestion | None = None
    snapshot: tuple[str, int] | None = None
    turns: int = 0


def thread_context(store: Store, thread_id: str) -> ThreadContext:
    """Read thread `thread_id` back (an empty context for a new thread)."""
    messages = store.thread_messages(thread_id)
    previous = snapshot = None
    for m in messages:
        if m.cluster_name is not None and m.cluster_revision is not None:
            snapshot = (m.cluster_name, m.cluster_revision)
        stored_q = (m.claims or {}).get("question") if isinstance(m.claims, dict) else None
        if m.role == "assistant" and stored_q:
            previous = ChatQuestion.from_json(stored_q)
    turns = sum(m.role == "user" for m in messages)
    return ThreadContext(tuple(messages[-HISTORY_MESSAGES:]), previous, snapshot, turns)


def model_question(text: str, q: ChatQuestion | None, followup: bool, history: Sequence[ThreadMessage]) -> str:
    """The `question` variable of the ask prompt: earlier turns, the new text, and how netreason reads it."""
    lines = []
    if history:
        lines.append("Earlier in this conversation (oldest first):")
        lines += [f"{m.role}: {_clip(m.text, HISTORY_CLIP)}" for m in history]
        lines.append("")
    lines.append(text)
    if q is not None and (followup or history):
        lines.append(f"(netreason reads this as: {q.sentence()})")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def record_turn(store: Store, thread_id: str, reply: Mapping[str, Any], *, channel: str | None = None) -> None:
    """Store the user's message and the assistant's reply, both pinned to the snapshot the reply used."""
    snap = reply.get("snapshot") or {}
    name, revision = snap.get("cluster"), snap.get("revision")
    store.add_message(thread_id, "user", reply["text"], cluster_name=name, cluster_revision=revision, channel=channel)
    claims = {"question": reply.get("question"), "answer": reply.get("answer"),
              "model_claims": (reply.get("model") or {}).get("claims"), "analysis_id": reply.get("analysis_id")}
    store.add_message(thread_id, "assistant", reply_summary(reply), cluster_name=name, cluster_revision=revision,
                      claims=claims, channel=channel)


def reply_summary(reply: Mapping[str, Any]) -> str:
    """The assistant's turn as the thread remembers it (and a later model sees it): short plain text."""
    lines = [reply["answer"]["headline"]]
    lines += [f"{'ALLOWED' if v['allowed'] else 'DENIED'} {v['from']} -> {v['to']} {v['protocol']}/{v['port']}"
              for v in reply["answer"]["verdicts"][:8]]
    model = reply.get("model") or {}
    if model.get("summary"):
        lines.append(f"model: {model['summary']}")
    return "\n".join(lines)


# --- a turn -----------------------------------------------------------------------------------------------


async def answer_turn(*, thread_id: str, text: str, truth: Truth, context: ThreadContext,
                      snapshot: Mapping[str, Any], run_model: ModelRunner,
                      load_base: BaseLoader | None = None) -> dict[str, Any]:
    """The reply to one user message: the verifier's verdicts beside the analysis `run_model` returns
    (the model's answer with its claims checked, or the ground truth alone when no model is configured).

    The returned document (schema `netreason.chat/v1`) has no links or rendering yet; the caller stores it
    and adds `analysis_id`, `report_url`, `markdown` and `blocks`. Never raises for model failures.
    """
    q, followup = interpret(text, context.previous, truth.bundle)
    ground = ground_answer(truth.bundle, q) if q is not None else None
    rollout = await _rollout(text, truth, load_base) if q is None else None
    analysis = await run_model(truth, {"question": model_question(text, q, followup, context.history)})
    doc = analysis_json(analysis)
    head = headline(q, ground, model_answered=bool(doc["model"] and doc["model"]["summary"]))
    return {
        "schema": "netreason.chat/v1", "thread_id": thread_id, "turn": context.turns + 1, "text": text,
        "question": q.to_json() if q else None, "interpreted_as": q.sentence() if q else None, "followup": followup,
        "snapshot": dict(snapshot),
        "rollout": rollout.to_json() if rollout else None,
        "answer": {"headline": rollout.headline if rollout else head,
                   "verdicts": [verdict_item(v) for v in ground.verdicts] if ground else [],
                   "allowed": ground.allowed if ground else 0, "skipped_pairs": ground.skipped if ground else 0,
                   "error": ground.error if ground else None},
        "model": doc["model"], "totals": doc["totals"], "hint": NO_MODEL_HINT if doc["model"] is None else None,
        "analysis": doc,
    }


async def _rollout(text: str, truth: Truth, load_base: BaseLoader | None) -> Any:
    """The verifier's answer to a rollout question ("what breaks?", "who can reach carts?"), or None."""
    from .rollout import answer_rollout, parse_rollout_question

    rq = parse_rollout_question(text)
    if rq is None:
        return None
    base = await load_base() if rq.kind == "change" and load_base is not None else None
    return answer_rollout(truth, rq, base)
