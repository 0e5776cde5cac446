"""A JSON document encoded once: its size check, its stored copy and the response body share the one encoding.

A 200-workload analysis is about 330 KB of JSON; encoding it three times (to measure it, to store it, to answer)
was a tenth of what `/v1/analyze` spends beside the verifier.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response

from ..storage.base import JsonText

JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class EncodedJson:
    """`doc` and its text exactly as `JSONResponse` renders it (compact, UTF-8, no NaN)."""

    doc: Any
    text: str

    @classmethod
    def of(cls, doc: Any) -> EncodedJson:
        """Encode `doc` (run it with `offload`: it is CPU work).

        Raises:
            ValueError: `doc` holds NaN or an infinity, which JSON cannot carry (JSONResponse refuses them too).
        """
        return cls(doc, json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")))

    @property
    def ascii_size(self) -> int:
        """The length of `json.dumps(doc, separators=(",", ":"))`, the size NETREASON_MAX_RESPONSE_BYTES is
        checked against: `text` with every character outside printable ASCII written as a `\\uXXXX` escape
        (DEL and non-ASCII: 6 characters; beyond the BMP, a surrogate pair: 12)."""
        text = self.text
        if text.isascii() and "\x7f" not in text:
            return len(text)
        non_ascii = len(text) - len(text.encode("ascii", "ignore"))
        astral = len(text.encode("utf-16-le", "surrogatepass")) // 2 - len(text)
        return len(text) + 5 * (non_ascii + text.count("\x7f")) + 6 * astral

    def stored(self) -> JsonText:
        """The document for the store, written as this text rather than encoded again."""
        return JsonText(self.doc, self.text)

    def response(self, headers: dict[str, str] | None = None) -> Response:
        """The same response `JSONResponse(doc, headers=headers)` gives, from the text already encoded."""
        return Response(self.text.encode("utf-8"), headers=headers, media_type=JSON_MEDIA_TYPE)

