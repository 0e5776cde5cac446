"""One chat turn, as /v1/chat and the Slack routes run it: choose the snapshot, answer, store, link.

A thread keeps its turns and the cluster snapshot its first turn used, so a follow-up ("and from the
marketing namespace?") is read against the previous question and asked of the same revision. Every turn
is also kept as a full report at /v1/analyses/{id}; replies link to it. Routers call `run_chat_turn`
and `split_cluster`; none of them imports another router.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from verifier.model.errors import InputError

from .. import chat
from ..minimize import minimized_text
from ..pipeline import Analysis
from ..providers.specs import display_spec
from ..redact import scrub_secret_values
from ..renderers.blocks import reply_blocks
from ..secret_prints import scrub_stored, stored_prints
from ..renderers.chat import render_reply_markdown
from ..store import ClusterNotFound, ClusterRevision, Store
from ..truth import Truth
from .deps import ServiceState
from .manifests import CHAT_PREFIX, NAME_PATTERN, LoadedSnapshot, Snapshot, load_manifest_text, load_snapshot_sync
from .results import analysis_link
from .running import choose_model, compute_truth, run_model, within_budget
from .workpool import offload

#: The cluster a turn uses when it names none and its thread has none pinned (else the only stored one).
DEFAULT_CLUSTER = "default"


class NoClusterChosen(InputError):
    """A first turn that names no cluster and sends no manifests, with no default cluster to fall back on."""


@dataclass(frozen=True)
class SnapshotChoice:
    """Where a turn's manifests come from; all None = the thread's pinned snapshot, else the default cluster."""

    cluster: str | None = None
    revision: int | None = None
    manifests: str | None = None
    deps: str | None = None
    namespace: str = "default"
    #: Who sent inline manifests (the token's name): their snapshot is theirs alone.
    owner: str = ""


def store_inline(store: Store, manifests: str, deps: str | None, namespace: str, owner: str = "") -> ClusterRevision:
    """Keep inline manifests as a snapshot (`chat-<sha256 prefix>`), so follow-ups can reuse it.

    The name is keyed by the caller too, and `chat-` snapshots are neither listed nor readable through
    /v1/clusters: one caller's manifests are not another's to read. Only what analyses need is kept.
    """
    key = hashlib.sha256("\0".join((owner, manifests, deps or "", namespace)).encode()).hexdigest()
    name = f"{CHAT_PREFIX}{key[:24]}"
    try:
        return store.get_cluster(name)
    except ClusterNotFound:
        bundle = load_manifest_text(manifests, name, namespace=namespace)
        kept = minimized_text(manifests, frozenset(s.name for s in bundle.services))
        return store.put_cluster(name, kept, deps=deps, default_namespace=namespace,
                                 secret_prints=stored_prints(bundle))


def default_cluster(store: Store) -> ClusterRevision:
    """The cluster named DEFAULT_CLUSTER, else the only stored one.

    Raises:
        NoClusterChosen: neither exists.
    """
    names = [name for name, _latest in store.cluster_names() if not name.startswith(CHAT_PREFIX)]
    if DEFAULT_CLUSTER in names or len(names) == 1:
        return store.get_cluster(DEFAULT_CLUSTER if DEFAULT_CLUSTER in names else names[0])
    listed = ", ".join(names[:10]) or "none stored yet"
    raise NoClusterChosen(f"say which cluster to ask about (stored: {listed}); upload one with "
                          f"POST /v1/clusters/{{name}} or name it {DEFAULT_CLUSTER!r} to make it the default")


def choose_revision(store: Store, choice: SnapshotChoice, pinned: tuple[str, int] | None) -> ClusterRevision:
    """The snapshot a turn is asked of: what it names, else what its thread used, else the default cluster.

    Raises:
        ClusterNotFound: a named cluster or revision does not exist. NoClusterChosen: nothing to fall back on.
    """
    if choice.manifests is not None:
        return store_inline(store, choice.manifests, choice.deps, choice.namespace, choice.owner)
    if choice.cluster is not None:
        return store.get_cluster(choice.cluster, choice.revision)
    if pinned is not None:
        return store.get_cluster(*pinned)
    return default_cluster(store)


def _prepare(store: Store, thread_id: str, choice: SnapshotChoice) -> tuple[chat.ThreadContext, LoadedSnapshot]:
    context = chat.thread_context(store, thread_id)
    rev = choose_revision(store, choice, context.snapshot)
    snapshot = Snapshot.model_validate({"cluster": rev.name, "revision": rev.revision})
    return context, load_snapshot_sync(snapshot, store, field="manifests", strict=False)


def inline_secret_values(choice: SnapshotChoice) -> frozenset[str]:
    """The Secret values in a turn's inline manifests. The stored snapshot keeps none (`minimize.py`), so
    they are read from the request, here, only to scrub the question; they are kept nowhere."""
    if choice.manifests is None:
        return frozenset()
    return load_manifest_text(choice.manifests, "manifests", namespace=choice.namespace).secret_values


def scrubbed_question(text: str, loaded: LoadedSnapshot, secrets: frozenset[str]) -> str:
    """`text` without the Secret values the turn's manifests hold (inline ones, and those a stored snapshot
    kept the fingerprints of): before the verifier, the model, the store or a reply (the model's prompt is
    further redacted of env and annotation values, as every prompt is)."""
    return scrub_stored(scrub_secret_values(text, loaded.bundle, secrets), loaded.secret_prints)


def _runner(state: ServiceState, spec: str | None, timeout_s: float | None) -> chat.ModelRunner:
    timeout = state.settings.model_timeout(timeout_s)

    async def run(truth: Truth, variables: Any) -> Analysis:
        return await run_model(truth, spec=spec, state=state, prompt=chat.CHAT_PROMPT, timeout_s=timeout,
                               variables=variables)
    return run


def _previous_revision(state: ServiceState, loaded: LoadedSnapshot) -> chat.BaseLoader:
    """Loads the truth of the revision before `loaded` (None for a first revision): the change's "before"."""
    async def load() -> Truth | None:
        name, revision = loaded.ref.get("cluster"), loaded.ref.get("revision")
        if not name or not isinstance(revision, int) or revision < 2:
            return None
        before = Snapshot.model_validate({"cluster": name, "revision": revision - 1})
        prev = await offload(load_snapshot_sync, before, state.store, field="manifests", strict=False)
        return await compute_truth(prev)
    return load


async def run_chat_turn(state: ServiceState, *, thread_id: str, text: str, choice: SnapshotChoice,
                        model: str | None = None, timeout_s: float | None = None,
                        channel: str | None = None) -> dict[str, Any]:
    """Answer `text` in thread `thread_id`, store the turn and its full report; return the reply document.

    The reply (`netreason.chat/v1`) carries the verifier's verdicts, the model's checked claims, `markdown`,
    Slack `blocks` and `report_url`.

    Raises:
        ClusterNotFound, NoClusterChosen: no snapshot to answer from. ApiProblem: 403 for a model not allowed.
    """
    spec = choose_model(model, state)
    async with state.work.admit():
        return await _chat_turn(state, thread_id, text, spec, choice, timeout_s, channel)


async def _chat_turn(state: ServiceState, thread_id: str, text: str, spec: str | None, choice: SnapshotChoice,
                     timeout_s: float | None, channel: str | None) -> dict[str, Any]:
    context, loaded = await offload(_prepare, state.store, thread_id, choice)
    within_budget(state, loaded)
    # A Secret value typed into the question must reach neither the model nor the stored turn.
    text = scrubbed_question(text, loaded, await offload(inline_secret_values, choice))
    truth = await compute_truth(loaded)
    reply = await chat.answer_turn(thread_id=thread_id, text=text, truth=truth, context=context,
                                   snapshot=loaded.ref, run_model=_runner(state, spec, timeout_s),
                                   load_base=_previous_revision(state, loaded))
    state.metrics.record_model(reply["model"])
    summary = {"source": loaded.ref, "model": display_spec(spec), "prompt": chat.CHAT_PROMPT, "thread_id": thread_id}
    stored = await run_in_threadpool(state.store.save_analysis, "chat", summary, reply)
    reply = {**reply, "analysis_id": stored.id, "report_url": analysis_link(state, stored.id, "html", signed=True)}
    await run_in_threadpool(chat.record_turn, state.store, thread_id, reply, channel=channel)
    return {**reply, "markdown": render_reply_markdown(reply), "blocks": reply_blocks(reply)}


def split_cluster(store: Store, text: str) -> tuple[str | None, str]:
    """(`prod`, the question without it) when the text names a stored cluster snapshot anywhere, else
    (None, `text`): "prod can api reach db", "what breaks in prod?", "who lost DNS on the staging cluster?"."""
    text = text.strip()
    names = {name for name, _ in store.cluster_names()}
    first, _, rest = text.partition(" ")
    if rest and re.match(NAME_PATTERN, first) and first in names:
        return first, rest.strip()
    for name in sorted(names, key=len, reverse=True):  # the longest name first: "prod-eu" before "prod"
        pattern = (rf"(?:\s+(?:in|on|for|of|at)\s+(?:the\s+)?(?:cluster\s+)?{re.escape(name)}(?:\s+cluster)?"
                   rf"|\s*\b(?:cluster\s+)?{re.escape(name)}(?:\s+cluster)?)(?![\w/.-])")
        m = re.search(pattern, text, re.I)
        if m and (m.start() == 0 or not text[m.start() - 1].isalnum() or text[m.start()] == " "):
            rest = (text[: m.start()] + " " + text[m.end():]).strip()
            rest = re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s{2,}", " ", rest))
            if rest:
                return name, rest
    return None, text
