"""JSON text as `json.dumps(doc, indent=2)` writes it, in a fifth of the time, except that NaN and
infinities are written as `null` (strict JSON).

With `indent`, the standard library leaves its C encoder for a pure-Python generator pipeline;
a lint document of a 5,413-pod cluster (18 MB) took 0.3 s there, a tenth of `netreason lint`, and the
exact encoder below 0.15-0.18 s. orjson writes it in 0.035 s (0.065 s with the checks here), with
three differences from `json.dumps`, each handled here:
- it writes non-ASCII characters (and DEL) as they are, where `json.dumps` escapes them: they occur only
  inside strings, so each is replaced by the escape `json.dumps` writes;
- it writes a float below 1e-4 as `0.00001` or `1.5e-7` where `float.__repr__` gives `1e-05` and
  `1.5e-07`: any text that may hold such a number is written again by the exact encoder below;
- NaN and infinities: it writes `null`, which the exact encoder writes too. `json.dumps` writes `NaN`,
  which JSON parsers reject (and Starlette refuses to send).
What orjson refuses (a non-str key, an int beyond 64 bits, a lone surrogate, an int or str subclass such as
an enum, a set) goes to the exact encoder: one recursive function that appends whole lines, every string
through the C `encode_basestring_ascii` that `json.dumps` uses, so the bytes are the same: ASCII only,
"," with a newline between items, ": " between key and value, `[]`/`{}` for empty containers, floats
as `float.__repr__`, non-str keys converted as `json.dumps` converts them.

Anything neither encoder handles (an object `json.dumps` would reject, a circular reference) is handed to
`json.dumps`, so the error is the one it raises.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring_ascii as _string  # the C function json.dumps uses
from typing import Any

import orjson


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


#: Refused by orjson, handed to `default`, which refuses them again: the exact encoder decides.
_ORJSON_OPTIONS = (orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS
                   | orjson.OPT_PASSTHROUGH_DATETIME)
#: Where orjson's float differs from `float.__repr__`: a negative exponent of one digit (after a digit), or
#: 1e-5 written out. Each pattern starts with a literal, so the scan of 18 MB takes milliseconds (one
#: pattern with both alternatives took half a second); a text that merely looks like one costs only the
#: slower encoder.
_ONE_DIGIT_EXPONENT = re.compile(rb"e-[0-9](?![0-9])")
_WRITTEN_OUT = re.compile(rb"(?<![0-9.])0\.0000[0-9]")
#: A run of DEL and UTF-8 bytes: whole characters, since every byte of a multi-byte character is above 0x7f.
_NOT_ASCII = re.compile(rb"[\x7f-\xff]+")
_DIGITS = frozenset(b"0123456789")


def dumps_indented(doc: Any) -> str:
    """`json.dumps(doc, indent=2)`, the same text, with NaN and infinities as null."""
    data = _by_orjson(doc)
    return data.decode("ascii") if data is not None else _exactly(doc)


def dumps_indented_bytes(doc: Any) -> bytes:
    """`dumps_indented(doc)` encoded (it is ASCII): what a command writes, never decoded to be encoded again
    (decoding 18 MB took 0.03-0.05 s, a few percent of `netreason lint` on a 5,000-pod cluster)."""
    data = _by_orjson(doc)
    return data if data is not None else _exactly(doc).encode("ascii")


def _refuse(o: Any) -> Any:
    raise TypeError


def _by_orjson(doc: Any) -> bytes | None:
    """The text as ASCII bytes, or None where orjson would write it otherwise than `json.dumps`."""
    try:
        data = orjson.dumps(doc, default=_refuse, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return None
    if _may_hold_a_short_float(data):
        return None
    if not data.isascii() or b"\x7f" in data:
        data = _NOT_ASCII.sub(_escaped, data)
    return data


def _escaped(m: re.Match[bytes]) -> bytes:
    """The escapes `json.dumps` writes for a run of characters beyond ASCII (they occur only inside strings)."""
    return _string(m.group().decode())[1:-1].encode("ascii")


def _may_hold_a_short_float(data: bytes) -> bool:
    for m in _ONE_DIGIT_EXPONENT.finditer(data):  # "e-" is rare in JSON text: "service-2" is one
        if m.start() > 0 and data[m.start() - 1] in _DIGITS:
            return True
    return b"0.0000" in data and _WRITTEN_OUT.search(data) is not None


def _exactly(doc: Any) -> str:
    sink = _Sink()
    try:
        _value(doc, "\n", sink)
    except (_NotPlain, RecursionError):
        return json.dumps(doc, indent=2)  # raises its own error for what it cannot encode
    return sink.text()


def _float(o: float) -> str:
    # json.encoder's floatstr, but strict: NaN and infinities have no JSON text
    return float.__repr__(o) if o - o == 0.0 else "null"


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
    a scalar as its JSON text; a key is a string, so NaN and infinities keep the names `json.dumps` gives them."""
    if isinstance(k, str):
        return str(k)
    if isinstance(k, float) and k - k != 0.0:
        return "NaN" if k != k else ("Infinity" if k > 0 else "-Infinity")
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


__all__ = ["dumps_indented", "dumps_indented_bytes"]
