"""Salted fingerprints of a stored cluster's Secret values: enough to scrub them from a question, not to keep them.

A stored snapshot keeps no Secret data (`minimize.py`), so a question asked of it later (a chat follow-up, a
Slack mention) has nothing to be scrubbed against. What is stored instead, per revision: a random salt, the
keyed BLAKE2b digest of each value a question must not carry (the values `redact.scrub_values` picks, and
their base64 forms, as a manifest's `data` gives them), and the values' lengths. Scrubbing a question
hashes each of its substrings of those lengths and blanks the ones whose digest matches. The salt is per
revision, so equal values in two clusters have unrelated digests.

Digests of short or low-entropy values can be brute-forced by whoever reads the database, as any hash of a
password can; values shorter than `redact.MIN_SECRET_LENGTH` or all digits are never fingerprinted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass

from verifier.model.bundle import Bundle

from .redact import REDACTED, scrub_values

SALT_BYTES = 16
DIGEST_BYTES = 16
FORMAT = "netreason.secret-prints/v1"


def _digest(salt: bytes, value: str) -> str:
    return hashlib.blake2b(value.encode(), key=salt, digest_size=DIGEST_BYTES).hexdigest()


def given_forms(value: str) -> set[str]:
    """`value` and the base64 texts a Secret's `data` would hold for it (with and without a final newline,
    as `echo VALUE | base64` makes it)."""
    return {value, *(base64.b64encode(v.encode()).decode() for v in (value, value + "\n"))}


@dataclass(frozen=True)
class SecretPrints:
    """The salt, the digests and the lengths (longest first) of the values to scrub."""

    salt: bytes
    digests: frozenset[str]
    lengths: tuple[int, ...]

    @classmethod
    def of(cls, values: Iterable[str], salt: bytes | None = None) -> SecretPrints:
        """Fingerprints of `values` and their base64 forms, under `salt` (default: a new random one)."""
        salt = salt if salt is not None else os.urandom(SALT_BYTES)
        forms = {form for value in values for form in given_forms(value)}
        lengths = tuple(sorted({len(f) for f in forms}, reverse=True))
        return cls(salt, frozenset(_digest(salt, f) for f in forms), lengths)

    def __bool__(self) -> bool:
        return bool(self.digests)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "salt": self.salt.hex(), "lengths": list(self.lengths),
                           "digests": sorted(self.digests)}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> SecretPrints:
        """Raises:
            ValueError: not a document `to_json` wrote.
        """
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        return cls(bytes.fromhex(doc["salt"]), frozenset(doc["digests"]), tuple(sorted(doc["lengths"], reverse=True)))

    def scrub(self, text: str) -> str:
        """`text` with every substring whose digest is one of ours replaced by `[redacted]`, longest first."""
        for length in self.lengths:
            if length <= len(text):
                text = self._blank(text, length)
        return text

    def _blank(self, text: str, length: int) -> str:
        parts: list[str] = []
        start = i = 0
        while i + length <= len(text):
            if _digest(self.salt, text[i:i + length]) in self.digests:
                parts += [text[start:i], REDACTED]
                i = start = i + length
            else:
                i += 1
        return "".join(parts) + text[start:] if parts else text


def stored_prints(bundle: Bundle) -> str | None:
    """What a stored revision of `bundle` keeps for scrubbing: its `SecretPrints` as JSON (None: no values)."""
    prints = SecretPrints.of(scrub_values(bundle))
    return prints.to_json() if prints else None


def scrub_stored(text: str, stored: str | None) -> str:
    """`text` scrubbed of the values a stored revision's `stored_prints` fingerprinted."""
    return SecretPrints.from_json(stored).scrub(text) if stored else text
