"""POST /v1/chat: one turn of a stored conversation about a cluster, answered by the verifier (and a model).

A thread keeps its turns and the cluster snapshot its first turn used, so a follow-up ("and from the
marketing namespace?") is read against the previous question and asked of the same revision. Every turn
is also kept as a full report at /v1/analyses/{id}; replies link to it. The Slack routes run turns
through `run_chat_turn` too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from verifier.errors import InputError

from .. import chat
from ..pipeline import Analysis, Truth
from ..renderers.blocks import reply_blocks
from ..renderers.chat import render_reply_markdown
from ..store import ClusterNotFound, ClusterRevision, Store
from .analyses import analysis_link
from ..providers.specs import display_spec
from ..minimize import minimized_text
from ..redact import scrub_secret_values
from .deps import ServiceState, State, require_token
from .formats import Format, analysis_sarif, render
from .manifests import CHAT_PREFIX, NAME_PATTERN, LoadedSnapshot, Snapshot, load_manifest_text, load_snapshot_sync
from .running import choose_model, compute_truth, run_model, within_budget
from .workpool import offload

router = APIRouter(prefix="/v1", tags=["chat"])

THREAD_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$"
#: The cluster a turn uses when it names none and its thread has none pinned (else the only stored one).
DEFAULT_CLUSTER = "default"


class NoClusterChosen(InputError):
    """A first turn that names no cluster and sends no manifests, with no default cluster to fall back on."""


class ChatRequest(BaseModel):
    """One user message. Send `cluster` or `manifests` on a thread's first turn; follow-ups may omit both."""

    model_config = ConfigDict(extra="forbid")

    thread_id: str | None = Field(None, pattern=THREAD_PATTERN,
                                  description="The conversation; omit to start one (the reply carries its id).")
    text: str = Field(min_length=1, max_length=4000, examples=["can api reach postgres:5432?"])
    cluster: str | None = Field(None, pattern=NAME_PATTERN, description="A stored cluster snapshot's name.")
    revision: int | None = Field(None, ge=1, description="Revision of `cluster` (default: the latest).")
    manifests: str | list[Any] | None = Field(None, description="YAML or JSON text, or a JSON list of objects.")
    deps: str | list[dict[str, Any]] | None = Field(None, description="Declared dependencies for `manifests`.")
    namespace: str = Field("default", description="Namespace of objects that name none.")
    model: str | None = Field(None, description="Model spec (default: NETREASON_MODEL; none: the verifier alone).")
    timeout_s: float | None = Field(None, gt=0, description="Seconds to wait for the model (capped by the server).")


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


def _as_text(value: str | list[Any] | None) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value, indent=1)


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
        return store.put_cluster(name, kept, deps=deps, default_namespace=namespace)


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
    """`text` without the Secret values the turn's manifests hold: before the verifier, the model, the store
    or a reply (the model's prompt is further redacted of env and annotation values, as every prompt is)."""
    return scrub_secret_values(text, loaded.bundle, secrets)


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
        prev = await run_in_threadpool(load_snapshot_sync, before, state.store, field="manifests", strict=False)
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


@router.post("/chat", summary="Ask about a cluster in a stored conversation; the reply's claims are checked")
async def post_chat(body: ChatRequest, state: State,
                    caller: str | None = Depends(require_token)) -> JSONResponse:
    """The reply as JSON: verdicts, the model's checked claims, Markdown and Slack Block Kit blocks.

    Raises:
        ClusterNotFound: 404. NoClusterChosen: 422. ApiProblem: 403 for a model outside the allow-list.
    """
    choice = SnapshotChoice(body.cluster, body.revision, _as_text(body.manifests), _as_text(body.deps), body.namespace,
                            owner=caller or "")
    text = body.text
    if choice.cluster is None and choice.manifests is None:  # "what breaks in prod?" names the cluster
        from .slack import split_cluster

        named, text = await run_in_threadpool(split_cluster, state.store, body.text)
        choice = dataclasses.replace(choice, cluster=named)
    thread_id = body.thread_id or f"chat-{uuid.uuid4().hex}"
    reply = await run_chat_turn(state, thread_id=thread_id, text=text, choice=choice, model=body.model,
                                timeout_s=body.timeout_s)
    public = {k: v for k, v in reply.items() if k != "analysis"}  # the full analysis is behind report_url
    return JSONResponse(public, headers={"X-Netreason-Analysis-Id": reply["analysis_id"]})


# --- the full report of a turn (GET /v1/analyses/{id} for kind "chat") -------------------------------------


def render_chat_report(doc: dict[str, Any], fmt: Format) -> Response:
    """A stored chat turn in `fmt`: every verdict (not the reply's summary), then the analysis behind it."""
    full = {**doc, "report_url": None}
    return render(doc, fmt, markdown=lambda d: _report_markdown(full), html=lambda d: _report_html(full),
                  sarif=lambda d: analysis_sarif(d["analysis"]))


def _report_markdown(doc: dict[str, Any]) -> str:
    from ..renderers.analysis import render_markdown

    body = render_reply_markdown(doc, max_verdicts=None)
    return body + ("\n" + render_markdown(doc["analysis"]) if doc.get("analysis") else "")


def _report_html(doc: dict[str, Any]) -> str:
    from ..renderers.report import render_report

    return render_report(doc)
