"""Counters and histograms in the Prometheus text exposition format (version 0.0.4), no client library.

One `Metrics` object per app holds everything `/metrics` serves: HTTP requests and their latency, model
calls, their latency and tokens, and claim verdicts. Thread-safe: routes record from the event loop and
from worker threads.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

Labels = tuple[tuple[str, str], ...]


def _labels(values: Mapping[str, Any]) -> Labels:
    return tuple(sorted((k, str(v)) for k, v in values.items()))


def _escape(value: str) -> str:
    # Exposition format: label values escape backslash, double quote and line feed.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _render_labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = (*labels, *extra)
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}" if pairs else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    """A monotonically increasing value per label set."""

    kind = "counter"

    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help = name, help_text
        self._values: dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: Any) -> None:
        """Add `amount` (>= 0) to the series named by `labels`."""
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = _labels(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: Any) -> float:
        """The current value of one series (0 when never incremented)."""
        with self._lock:
            return self._values.get(_labels(labels), 0.0)

    def samples(self) -> Iterable[str]:
        with self._lock:
            items = sorted(self._values.items())
        for labels, value in items:
            yield f"{self.name}{_render_labels(labels)} {_number(value)}"


class Histogram:
    """Observations counted into cumulative `le` buckets, with their sum and count, per label set."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.name, self.help = name, help_text
        self.buckets = tuple(sorted(buckets))
        self._series: dict[Labels, list[float]] = {}  # per-bucket counts..., +Inf count, sum
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: Any) -> None:
        """Record one observation in the series named by `labels`."""
        key = _labels(labels)
        index = bisect.bisect_left(self.buckets, value)  # first bucket with le >= value
        with self._lock:
            series = self._series.setdefault(key, [0.0] * (len(self.buckets) + 2))
            series[index] += 1
            series[-1] += value

    def count(self, **labels: Any) -> int:
        """How many observations one series holds."""
        with self._lock:
            series = self._series.get(_labels(labels))
            return int(sum(series[:-1])) if series else 0

    def samples(self) -> Iterable[str]:
        with self._lock:
            items = sorted((k, list(v)) for k, v in self._series.items())
        for labels, series in items:
            cumulative = 0.0
            for bound, n in zip((*self.buckets, math.inf), series[:-1]):
                cumulative += n
                yield f"{self.name}_bucket{_render_labels(labels, (('le', _number(bound)),))} {_number(cumulative)}"
            yield f"{self.name}_sum{_render_labels(labels)} {_number(series[-1])}"
            yield f"{self.name}_count{_render_labels(labels)} {_number(cumulative)}"


#: Label values come from a bounded set: a caller must not mint a series per request (memory, scrape size).
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_MODEL_LABELS = 16
OTHER = "other"


class Metrics:
    """The service's metrics; `render()` is the body of GET /metrics."""

    def __init__(self) -> None:
        self._model_labels: set[str] = set()
        self._label_lock = threading.Lock()
        self.requests = Counter("netreason_http_requests_total", "HTTP requests by method, route and status.")
        self.latency = Histogram("netreason_http_request_duration_seconds", "HTTP request latency by route.")
        self.model_calls = Counter("netreason_model_calls_total", "Model calls by model and outcome (ok or error kind).")
        self.model_latency = Histogram("netreason_model_call_duration_seconds", "Model call latency by model.")
        self.tokens = Counter("netreason_model_tokens_total", "Model tokens by model and direction (input, output).")
        self.verdicts = Counter("netreason_claim_verdicts_total", "Checked model claims by verdict.")
        self._all: tuple[Counter | Histogram, ...] = (
            self.requests, self.latency, self.model_calls, self.model_latency, self.tokens, self.verdicts)

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
        """Every metric in the text exposition format, HELP and TYPE lines first."""
        lines: list[str] = []
        for metric in self._all:
            lines.append(f"# HELP {metric.name} {metric.help}")
            lines.append(f"# TYPE {metric.name} {metric.kind}")
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"
