"""FastAPI dependencies: the per-app state (settings, store, metrics, providers), bearer-token auth, signed links."""

from __future__ import annotations

import asyncio
import hmac
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from ..links import sign_link, verify_link
from ..metrics import Metrics
from ..provider_pool import ProviderPool
from .background import Background
from .workpool import WorkPool
from ..settings import Settings
from ..store import Store
from .errors import ApiProblem


#: How long "no token is stored" is believed before the database is asked again.
TOKENS_CHECK_TTL_S = 1.0
#: The thread "is any token stored?" is asked on (one query at a time, shared by the requests that wait for it).
_AUTH_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netreason-auth")


@dataclass
class ServiceState:
    """What the lifespan builds once and every request shares (held in `app.state.service`)."""

    settings: Settings
    store: Store
    metrics: Metrics = field(default_factory=Metrics)
    #: Provider clients by spec, bounded; evicted ones are closed (`service.provider_pool`).
    providers: ProviderPool = field(default_factory=ProviderPool)
    #: Slots and threads for analysis-sized work (`service.api.workpool`); built by the lifespan.
    work: WorkPool = field(default_factory=lambda: WorkPool(threads=2, max_active=8, max_queued=64))
    #: Tasks routes run after answering (Slack), counted until they finish (`background.Background`).
    background: Background = field(default_factory=Background)
    _tokens_seen: bool = field(default=False, repr=False)
    _tokens_checked_at: float = field(default=float("-inf"), repr=False)
    _tokens_gen: int = field(default=0, repr=False)
    _tokens_query: tuple[int, asyncio.Future[bool]] | None = field(default=None, repr=False)
    #: The key that signs report links (`service.links.resolve_link_secret`); empty = links cannot be signed.
    link_secret: bytes = field(default=b"", repr=False)

    async def tokens_stored(self) -> bool:
        """Whether any bearer token is stored; asked at most once a second (`TOKENS_CHECK_TTL_S`).

        Every /v1 request asks this when NETREASON_API_TOKENS is unset: under a burst, a database query
        each would queue behind the analyses' own and stall `/readyz` for seconds. Requests that find the
        answer stale at the same time share one query, on a thread of its own (`_AUTH_POOL`): on AnyIO's
        pool, a burst's worth of them each started a thread, and the event loop waits for each new thread
        to start. Once tokens exist the answer is kept: auth does not turn off without a restart (fail closed).
        """
        now = time.monotonic()
        gen = self.store.tokens_created
        fresh = now - self._tokens_checked_at < TOKENS_CHECK_TTL_S and self._tokens_gen == gen
        if self._tokens_seen or fresh:
            return self._tokens_seen
        if self._tokens_query is None or self._tokens_query[0] != gen:  # none yet, or asked before a new token
            query = asyncio.ensure_future(self._ask_tokens(gen, now))
            query.add_done_callback(self._tokens_asked)
            self._tokens_query = (gen, query)
        return await asyncio.shield(self._tokens_query[1])

    async def _ask_tokens(self, gen: int, asked_at: float) -> bool:
        seen = await asyncio.get_running_loop().run_in_executor(_AUTH_POOL, self.store.has_tokens)
        self._tokens_seen = self._tokens_seen or seen  # an older query's "none" never undoes a newer "some"
        self._tokens_gen, self._tokens_checked_at = gen, asked_at
        return self._tokens_seen

    def _tokens_asked(self, query: asyncio.Future[bool]) -> None:
        if self._tokens_query is not None and self._tokens_query[1] is query:
            self._tokens_query = None
        if not query.cancelled():
            query.exception()  # retrieved here too: every caller may have gone (their await was shielded)

    def signed_link_query(self, analysis_id: str) -> str:
        """`exp=...&sig=...` that lets a link open analysis `analysis_id` for NETREASON_LINK_TTL_S seconds.

        Raises:
            ValueError: no link key was resolved for this state.
        """
        return sign_link(self.link_secret, analysis_id, now=time.time(), ttl_s=self.settings.link_ttl_s).query()


async def service_state(request: Request) -> ServiceState:
    """The app's ServiceState."""
    state: ServiceState = request.app.state.service  # Starlette's app.state holds Any
    return state


State = Annotated[ServiceState, Depends(service_state)]


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _configured_match(token: str, settings: Settings) -> bool:
    # compare_digest on every configured token: the time taken does not reveal which prefix matched.
    found = False
    for secret in settings.api_tokens:
        found |= hmac.compare_digest(token.encode(), secret.get_secret_value().encode())
    return found


async def require_token(request: Request, state: State) -> str | None:
    """Pass when auth is off, or the bearer token is configured or stored; return the caller's name.

    Auth is on when NETREASON_API_TOKENS is set or any token is stored in the database.

    Raises:
        ApiProblem: 401 with a `WWW-Authenticate` header.
    """
    settings, store = state.settings, state.store
    token = _bearer(request)
    if token is not None and _configured_match(token, settings):
        return "configured-token"
    name = await run_in_threadpool(store.token_name, token) if token is not None else None
    if name is not None:
        return name
    if not settings.api_tokens and not await state.tokens_stored():
        return None
    detail = "send Authorization: Bearer <token>" if token is None else "the bearer token is not valid"
    raise ApiProblem(401, "unauthorized", "Unauthorized", detail,
                     headers={"WWW-Authenticate": 'Bearer realm="netreason"'})


async def require_token_or_link(request: Request, state: State, analysis_id: str,
                                exp: str | None = Query(None, description="Expiry of a signed report link."),
                                sig: str | None = Query(None, description="Signature of a report link.")) -> str | None:
    """`require_token`, or, failing it, a signed link (`exp` and `sig`) to analysis `analysis_id`.

    A valid bearer token passes as before, whatever the link says; a link is only looked at when
    the token check fails, so it can neither lock out a token holder nor open any other route.

    Raises:
        ApiProblem: 401 without a token or a link. LinkInvalid, LinkExpired: a link that does not open it (403).
    """
    try:
        return await require_token(request, state)
    except ApiProblem:
        if exp is None and sig is None:
            raise
    verify_link(state.link_secret, analysis_id, exp, sig, now=time.time())
    return "signed-link"
