"""Error types. Each carries what a user needs to act: where, which field, what to change."""

from __future__ import annotations

from collections.abc import Sequence

from .bundle import Issue, SourceRef


class NetreasonError(Exception):
    """Base of every error netreason raises on purpose; the CLI prints it without a traceback."""


class InputError(NetreasonError):
    """Bad input: a file that can't be read, malformed YAML, an unknown workload name."""

    def __init__(self, message: str, source: SourceRef | None = None, field_path: str = "") -> None:
        self.source = source
        self.field_path = field_path
        self.detail = message
        where = f"{source}: " if source else ""
        path = f"{field_path}: " if field_path else ""
        super().__init__(f"{where}{path}{message}")


class ManifestSyntaxError(InputError):
    """A file that is not valid YAML or JSON."""


class ValidationFailed(NetreasonError):
    """Raised in strict mode when any object fails API-server validation."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        lines = "\n".join(str(i) for i in self.issues)
        super().__init__(f"{len(self.issues)} validation error(s):\n{lines}")


class UnknownWorkload(InputError):
    """A `namespace/name` that names no workload in the bundle."""


class UnreadableInput(InputError):
    """Some input could not be parsed: whatever was checked, it was not everything given."""


class NothingToCheck(InputError):
    """The inputs hold no workload: every verdict would be vacuous."""
