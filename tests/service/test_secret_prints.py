"""Salted fingerprints of Secret values (service/secret_prints.py): a question is scrubbed of exactly the
fingerprinted values, longest first, and the stored document holds no value."""

from __future__ import annotations

import base64

from service.secret_prints import SecretPrints, scrub_stored

SALT = b"s" * 16


def test_every_occurrence_is_blanked_and_the_longest_value_first() -> None:
    prints = SecretPrints.of(["hunter22", "hunter22-admin"], salt=SALT)
    text = "pw hunter22-admin, or hunter22,hunter22"
    assert prints.scrub(text) == "pw [redacted], or [redacted],[redacted]"


def test_the_base64_forms_a_secrets_data_holds_are_blanked_too() -> None:
    prints = SecretPrints.of(["hunter22"], salt=SALT)
    encoded = base64.b64encode(b"hunter22").decode()
    with_newline = base64.b64encode(b"hunter22\n").decode()
    assert prints.scrub(f"{encoded} / {with_newline}") == "[redacted] / [redacted]"


def test_text_without_a_fingerprinted_value_is_unchanged() -> None:
    prints = SecretPrints.of(["hunter22"], salt=SALT)
    assert prints.scrub("hunter2 hunter23 HUNTER22") == "hunter2 hunter23 HUNTER22"
    assert scrub_stored("hunter22", None) == "hunter22"


def test_the_stored_document_round_trips_and_holds_no_value() -> None:
    prints = SecretPrints.of(["hunter22"], salt=SALT)
    stored = prints.to_json()
    assert "hunter22" not in stored and base64.b64encode(b"hunter22").decode() not in stored
    assert SecretPrints.from_json(stored) == prints
    assert scrub_stored("is hunter22 right?", stored) == "is [redacted] right?"
    assert not SecretPrints.of([], salt=SALT)
