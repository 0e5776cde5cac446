"""The service's Prometheus metrics, kept by `prometheus_client`.

One `Metrics` object per app holds everything `/metrics` serves: HTTP requests and their latency, model
calls, their latency and tokens, and claim verdicts. Each object has its own registry, so several apps in
one process (the tests) never share counters.

Under `netreason serve --workers N` every worker is its own process: `prometheus_client`'s multiprocess
mode (`PROMETHEUS_MULTIPROC_DIR`, set by `serve` before the workers start) keeps each worker's values in
a file there, and a scrape of any worker adds up all of them, so counters are whole whichever worker
answers. The mode is chosen when `prometheus_client` is first imported, so `serve` sets the variable before
it starts the workers (fresh interpreters); the CLI's other commands never import this module.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest, multiprocess

from .metrics_dir import multiprocess_dir

CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST
# `_created` series double every counter's lines and no dashboard of ours reads them.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Counter:
    """A monotonically increasing value per label set (labels passed by name, as keyword arguments)."""

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str], registry: CollectorRegistry) -> None:
        # prometheus_client appends `_total` to a counter's name itself.
        self._metric = prometheus_client.Counter(name.removesuffix("_total"), help_text, list(labelnames),
                                                 registry=registry)

    def inc(self, amount: float = 1.0, **labels: Any) -> None:
        """Add `amount` (>= 0) to the series named by `labels`."""
        self._metric.labels(**{k: str(v) for k, v in labels.items()}).inc(amount)


class Histogram:
    """Observations counted into cumulative `le` buckets, with their sum and count, per label set."""

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str], registry: CollectorRegistry,
                 buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self._metric = prometheus_client.Histogram(name, help_text, list(labelnames), registry=registry,
                                                   buckets=tuple(buckets))

    def observe(self, value: float, **labels: Any) -> None:
        """Record one observation in the series named by `labels`."""
        self._metric.labels(**{k: str(v) for k, v in labels.items()}).observe(value)


#: Label values come from a bounded set: a caller must not mint a series per request (memory, scrape size).
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_MODEL_LABELS = 16
OTHER = "other"


class Metrics:
    """The service's metrics; `render()` is the body of GET /metrics."""

    def __init__(self) -> None:
        self._model_labels: set[str] = set()
        self._label_lock = threading.Lock()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("netreason_http_requests_total", "HTTP requests by method, route and status.",
                                ("method", "route", "status"), r)
        self.latency = Histogram("netreason_http_request_duration_seconds", "HTTP request latency by route.",
                                 ("route",), r)
        self.model_calls = Counter("netreason_model_calls_total",
                                   "Model calls by model and outcome (ok or error kind).",
                                   ("model", "outcome"), r)
        self.model_latency = Histogram("netreason_model_call_duration_seconds", "Model call latency by model.",
                                       ("model",), r)
        self.tokens = Counter("netreason_model_tokens_total", "Model tokens by model and direction (input, output).",
                              ("direction", "model"), r)
        self.verdicts = Counter("netreason_claim_verdicts_total", "Checked model claims by verdict.", ("verdict",), r)

    def record_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request and its latency."""
        method = method if method in HTTP_METHODS else OTHER
        self.requests.inc(method=method, route=route, status=status)
        self.latency.observe(seconds, route=route)

    def record_model(self, model: dict[str, Any] | None) -> None:
        """Count the model call of an analysis document's `model` section (nothing when no model ran)."""
        if not model:
            return
        name = self._model_label(str(model.get("name") or "unknown"))
        self.model_calls.inc(model=name, outcome=model.get("error_kind") or "ok")
        usage = model.get("usage") or {}
        self.model_latency.observe(float(usage.get("latency_ms") or 0.0) / 1000, model=name)
        for direction in ("input", "output"):
            self.tokens.inc(float(usage.get(f"{direction}_tokens") or 0), model=name, direction=direction)
        for claim in model.get("claims") or ():
            self.verdicts.inc(verdict=claim.get("verdict", "unknown"))

    def _model_label(self, name: str) -> str:
        # The first MAX_MODEL_LABELS names get their own series; any further one counts as "other".
        with self._label_lock:
            if name in self._model_labels or len(self._model_labels) < MAX_MODEL_LABELS:
                self._model_labels.add(name)
                return name
        return OTHER

    def render(self) -> str:
        """Every metric in the text exposition format: this process's, or every worker's in multiprocess mode."""
        path = multiprocess_dir()
        if path is None:
            return generate_latest(self.registry).decode("utf-8")
        merged = CollectorRegistry()
        # prometheus_client leaves the collector's __init__ unannotated
        multiprocess.MultiProcessCollector(merged, path=path)  # type: ignore[no-untyped-call]
        return generate_latest(merged).decode("utf-8")
