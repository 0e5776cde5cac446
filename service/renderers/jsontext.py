"""JSON text exactly as `json.dumps(doc, indent=2)` writes it, in half the time.

With `indent`, the standard library leaves its C encoder for a pure-Python generator pipeline
(several generator frames per value); a lint or analysis document of a 5,413-pod cluster (18 MB of
JSON) took a third of a second there, a tenth of `netreason lint`. Here one recursive function
appends whole lines, and every string still goes through the C `encode_basestring_ascii` that
`json.dumps` uses, so the bytes are the same: ASCII only, ", " never (the item separator is ","
with an indent), ": " between key and value, `[]`/`{}` for empty containers, floats as `float.__repr__`,
NaN and infinities as `json.dumps` spells them, non-str keys converted as it converts them.

Anything this encoder does not handle (an object `json.dumps` would reject, a circular reference)
is handed to `json.dumps`, so the error is the one it raises.
"""

from __future__ import annotations

import json
from json.encoder import INFINITY
from json.encoder import encode_basestring_ascii as _string  # the C function json.dumps uses
from typing import Any


class _NotPlain(Exception):
    """A value `json.dumps` would need `default` for (it raises TypeError there)."""


#: Pieces joined into one block at a time: a list of millions of short strings weighs several times the text.
_BLOCK = 4096


class _Sink:
    """The text so far: short pieces, joined into blocks between containers."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.pieces: list[str] = []
        self.put = self.pieces.append

    def settle(self) -> None:
        if len(self.pieces) >= _BLOCK:
            self.blocks.append("".join(self.pieces))
            self.pieces.clear()

    def text(self) -> str:
        return "".join([*self.blocks, *self.pieces])


def dumps_indented(doc: Any) -> str:
    """`json.dumps(doc, indent=2)`, the same text."""
    sink = _Sink()
    try:
        _value(doc, "\n", sink)
    except (_NotPlain, RecursionError):
        return json.dumps(doc, indent=2)  # raises its own error for what it cannot encode
    return sink.text()


def _float(o: float) -> str:
    # json.encoder's floatstr with allow_nan=True
    if o != o:
        return "NaN"
    if o == INFINITY:
        return "Infinity"
    if o == -INFINITY:
        return "-Infinity"
    return float.__repr__(o)


def _scalar(o: Any) -> str | None:
    """The JSON of a value that is not a container (checked in `json.encoder`'s order); None for a container."""
    if isinstance(o, str):
        return _string(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        return _float(o)
    return None


def _key(k: Any) -> str:
    """A dict key as `json.dumps` converts it (skipkeys=False): a string as it is (escaped by the caller),
    a scalar as its JSON text."""
    if isinstance(k, str):
        return str(k)
    text = _scalar(k)
    if text is None:
        raise _NotPlain
    return text


def _value(o: Any, nl: str, sink: _Sink) -> None:
    """Append the JSON of `o`, whose first line is already indented; `nl` is a newline plus its indent."""
    if isinstance(o, dict):
        _dict(o, nl, sink)
    elif isinstance(o, (list, tuple)):
        _list(o, nl, sink)
    else:
        text = _scalar(o)
        if text is None:
            raise _NotPlain
        sink.put(text)


def _dict(o: dict[Any, Any], nl: str, sink: _Sink) -> None:
    put = sink.put
    if not o:
        put("{}")
        return
    inner = nl + "  "
    sep = "{" + inner
    for k, v in o.items():
        head = sep + _string(k if type(k) is str else _key(k)) + ": "
        text = _string(v) if type(v) is str else _scalar(v)
        if text is None:
            put(head)
            _value(v, inner, sink)
            sink.settle()
        else:
            put(head + text)
        sep = "," + inner
    put(nl + "}")


def _list(o: list[Any] | tuple[Any, ...], nl: str, sink: _Sink) -> None:
    put = sink.put
    if not o:
        put("[]")
        return
    inner = nl + "  "
    sep = "[" + inner
    for v in o:
        text = _string(v) if type(v) is str else _scalar(v)
        if text is None:
            put(sep)
            _value(v, inner, sink)
            sink.settle()
        else:
            put(sep + text)
        sep = "," + inner
    put(nl + "]")


__all__ = ["dumps_indented"]
