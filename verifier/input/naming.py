"""Name and value formats the API server enforces (k8s.io/apimachinery util/validation).

Each check returns a tuple of problems (empty when the value is valid), so a caller can
report every problem of a value, as the API server does. Results are cached: manifests
repeat the same label keys, values and port names thousands of times.
"""

from __future__ import annotations

import re
from functools import lru_cache

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
# "A qualified name must consist of alphanumeric characters, '-', '_' or '.', and must
# start and end with an alphanumeric character" (label keys' name part and label values).
_QUALIFIED_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PORT_NAME_CHARS = re.compile(r"[-a-z0-9]+")
_HAS_LETTER = re.compile(r"[a-z]")

MAX_LABEL_LENGTH = 63
MAX_SUBDOMAIN_LENGTH = 253
MAX_PORT_NAME_LENGTH = 15


@lru_cache(maxsize=65536)
def dns1123_label(value: str) -> tuple[str, ...]:
    """Namespace names: lowercase RFC 1123 label."""
    return tuple(_dns1123_label(value))


def _dns1123_label(value: str) -> list[str]:
    problems = _too_long(value, MAX_LABEL_LENGTH)
    if not _DNS1123_LABEL.fullmatch(value):
        problems.append(
            "must be a lowercase RFC 1123 label: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit (e.g. 'my-name')"
        )
    return problems


@lru_cache(maxsize=65536)
def dns1123_subdomain(value: str) -> tuple[str, ...]:
    """Most object names (NetworkPolicy, Deployment, Pod): lowercase RFC 1123 subdomain."""
    return tuple(_dns1123_subdomain(value))


def _dns1123_subdomain(value: str) -> list[str]:
    problems = _too_long(value, MAX_SUBDOMAIN_LENGTH)
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        problems.append(
            "must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit (e.g. 'example.com')"
        )
    return problems


@lru_cache(maxsize=65536)
def dns1035_label(value: str) -> tuple[str, ...]:
    """Service names: RFC 1035 label (must start with a letter)."""
    return tuple(_dns1035_label(value))


def _dns1035_label(value: str) -> list[str]:
    problems = _too_long(value, MAX_LABEL_LENGTH)
    if not _DNS1035_LABEL.fullmatch(value):
        problems.append(
            "must be an RFC 1035 label: lowercase letters, digits and '-', starting with a "
            "letter and ending with a letter or digit (e.g. 'my-name')"
        )
    return problems


@lru_cache(maxsize=65536)
def qualified_name(value: str) -> tuple[str, ...]:
    """Label keys: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters."""
    return tuple(_qualified_name(value))


def _qualified_name(value: str) -> list[str]:
    prefix, slash, name = value.rpartition("/")
    if slash and "/" in prefix:
        return ["a label key may contain at most one '/' (e.g. 'example.com/my-key')"]
    problems: list[str] = []
    if slash:
        if not prefix:
            problems.append("the prefix before '/' must not be empty")
        else:
            problems.extend(f"prefix part {p}" for p in dns1123_subdomain(prefix))
    if not name:
        problems.append("the name part must not be empty")
        return problems
    problems.extend(f"name part {p}" for p in _too_long(name, MAX_LABEL_LENGTH))
    if not _QUALIFIED_PART.fullmatch(name):
        problems.append(
            "name part must consist of letters, digits, '-', '_' or '.', and start and end "
            "with a letter or digit (e.g. 'app.kubernetes.io/name' or 'tier')"
        )
    return problems


@lru_cache(maxsize=65536)
def label_value(value: str) -> tuple[str, ...]:
    """Label values: empty, or at most 63 letters, digits, '-', '_', '.' with alphanumeric ends."""
    return tuple(_label_value(value))


def _label_value(value: str) -> list[str]:
    if value == "":
        return []
    problems = _too_long(value, MAX_LABEL_LENGTH)
    if not _QUALIFIED_PART.fullmatch(value):
        problems.append(
            "a label value must be empty or consist of letters, digits, '-', '_' or '.', "
            "and start and end with a letter or digit"
        )
    return problems


@lru_cache(maxsize=65536)
def port_name(value: str) -> tuple[str, ...]:
    """Named ports (IANA_SVC_NAME, RFC 6335 section 5.1)."""
    return tuple(_port_name(value))


def _port_name(value: str) -> list[str]:
    problems = _too_long(value, MAX_PORT_NAME_LENGTH)
    if not _PORT_NAME_CHARS.fullmatch(value):
        problems.append("a port name may contain only lowercase letters, digits and '-'")
    if not _HAS_LETTER.search(value):
        hint = " (to give a port number, write it without quotes)" if value.isdigit() else ""
        problems.append(f"a port name must contain at least one letter{hint}")
    if "--" in value:
        problems.append("a port name must not contain two consecutive '-'")
    if value.startswith("-") or value.endswith("-"):
        problems.append("a port name must not begin or end with '-'")
    return problems


@lru_cache(maxsize=65536)
def port_number(value: int) -> tuple[str, ...]:
    """Numeric ports: 1 to 65535."""
    return tuple(_port_number(value))


def _port_number(value: int) -> list[str]:
    if 1 <= value <= 65535:
        return []
    return ["must be between 1 and 65535, inclusive"]


def _too_long(value: str, limit: int) -> list[str]:
    if len(value) > limit:
        return [f"must be no more than {limit} characters (has {len(value)})"]
    return []
