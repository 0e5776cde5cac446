"""The shape of a model's answer: a summary plus typed claims the verifier can check.

These pydantic models are the single source of the answer format. The prompt files name
the schema (`answer_schema: ModelAnswer`) and the prompt loader attaches the JSON schema
generated from here, so the format is never written twice.

Object ids are `namespace/name`. `from` and `to` are Python keywords, so the fields are
`from_`/`to` with the aliases `from`/`to`; answers validate by either name and serialize
by alias (`model_dump(by_alias=True)`, which `ModelAnswer.to_json_dict` does).

Strict structured outputs (OpenAI `strict: true`) accept `anyOf` but not `oneOf` or
`discriminator`, require every property to be listed in `required` (optional ones as
nullable) and `additionalProperties: false` on every object. The discriminated union
survives that translation as an `anyOf` of closed object types, one per claim type, so no
flattening is needed: `strict_json_schema()` returns that variant, and pydantic still
dispatches on `type` when parsing.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ..model.errors import NetreasonError

ClaimProtocol = Literal["TCP", "UDP", "SCTP"]


class AnswerParseError(NetreasonError):
    """A model's output that is not JSON, or JSON that does not fit `ModelAnswer`.

    `problems` lists one line per problem (`claims[1].port: ...`); the repair prompt
    shows them to the model.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        self.problems = problems
        detail = "".join(f"\n  {p}" for p in problems)
        super().__init__(f"{message}{detail}")


def _object_id(value: str) -> str:
    """Accept `namespace/name` with both parts non-empty and no further slash."""
    parts = value.split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ValueError(f"expected 'namespace/name', got {value!r}")
    return value


ObjectId = Annotated[str, AfterValidator(_object_id)]
Port = Annotated[int, Field(ge=1, le=65535)]


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Reason = Annotated[str | None, Field(description="One sentence: which policy or rule decides it.")]


class _Claim(BaseModel):
    # `reason` is declared last in each claim so that `type` leads in generated JSON.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True, frozen=True)


class FlowClaim(_Claim):
    """Whether `from` can open a connection to `to` on port/protocol (both policy sides applied)."""

    type: Literal["flow"]
    from_: ObjectId = Field(alias="from", description="source workload, namespace/name")
    to: ObjectId = Field(description="destination workload, namespace/name")
    port: Port = Field(description="numeric destination (container) port")
    protocol: ClaimProtocol = "TCP"
    allowed: bool
    reason: Reason = None


class DependencyBrokenClaim(_Claim):
    """A declared or inferred dependency `from` -> `to` that the policies deny."""

    type: Literal["dependency_broken"]
    from_: ObjectId = Field(alias="from", description="client workload, namespace/name")
    to: ObjectId = Field(description="destination as listed in the dependency (Service or workload)")
    port: Port = Field(description="port as listed in the dependency")
    protocol: ClaimProtocol = "TCP"
    reason: Reason = None


class DnsEgressMissingClaim(_Claim):
    """A workload whose egress policies block DNS (UDP or TCP 53) to the cluster DNS pods."""

    type: Literal["dns_egress_missing"]
    workload: ObjectId
    reason: Reason = None


class FindingClaim(_Claim):
    """A lint finding: rule id and the object (`namespace/name`) it is about."""

    type: Literal["finding"]
    rule: Annotated[str, AfterValidator(_non_empty)] = Field(description="finding rule id, e.g. ingress-without-egress")
    object: ObjectId
    reason: Reason = None


class PolicySelectsClaim(_Claim):
    """The exact set of workloads a policy's podSelector selects."""

    type: Literal["policy_selects"]
    policy: ObjectId
    workloads: list[ObjectId]
    reason: Reason = None


Claim = Annotated[
    FlowClaim | DependencyBrokenClaim | DnsEgressMissingClaim | FindingClaim | PolicySelectsClaim,
    Field(discriminator="type"),
]

CLAIM_TYPES: tuple[str, ...] = ("flow", "dependency_broken", "dns_egress_missing", "finding", "policy_selects")

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)\n?```", re.DOTALL)


class ModelAnswer(BaseModel):
    """A model's whole answer: a short summary and the claims the verifier will check."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True, frozen=True)

    summary: str
    claims: list[Claim]

    @classmethod
    def parse_text(cls, text: str) -> ModelAnswer:
        """Parse a model's raw output into a `ModelAnswer`.

        Accepts bare JSON or JSON inside a Markdown code fence (with or without a `json`
        tag), and prose around a single JSON object.

        Raises:
            AnswerParseError: the text holds no JSON object, or the object does not fit
                the schema; the message says what and where (`claims[0].port: ...`).
        """
        payload = _extract_json_text(text)
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise AnswerParseError(
                f"model output is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg}); "
                f"it starts with {text.strip()[:60]!r}"
            ) from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise AnswerParseError(
                f"model output does not match the {cls.__name__} schema "
                f"({exc.error_count()} problem(s))",
                problems=describe_validation_error(exc),
            ) from None

    def to_json_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data, with `from`/`to` keys and nulls kept."""
        return self.model_dump(mode="json", by_alias=True)


def _extract_json_text(text: str) -> str:
    """Strip a code fence or surrounding prose; raise when nothing looks like an object."""
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        shown = text.strip()[:60] or "(empty)"
        raise AnswerParseError(f"model output holds no JSON object; it starts with {shown!r}")
    return text[start : end + 1]


def describe_validation_error(exc: ValidationError) -> tuple[str, ...]:
    """One `path: message` line per pydantic error (`claims[0].port: ...`), union tags left out."""
    lines = []
    for err in exc.errors(include_url=False):
        path = ""
        for part in err["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif part not in CLAIM_TYPES:  # the union tag pydantic adds to the location
                path += f".{part}" if path else str(part)
        lines.append(f"{path or '(root)'}: {err['msg']}")
    return tuple(lines)


def answer_json_schema(model: type[BaseModel] = ModelAnswer) -> dict[str, Any]:
    """The JSON schema of `model` as pydantic generates it (by alias, unions as `oneOf`)."""
    return model.model_json_schema(by_alias=True)


def strict_json_schema(model: type[BaseModel] = ModelAnswer) -> dict[str, Any]:
    """`model`'s schema (default `ModelAnswer`) in the subset OpenAI strict structured outputs accept.

    Every object is closed (`additionalProperties: false`) and lists all its properties
    as required; fields with defaults stay nullable or keep their type, `oneOf` becomes
    `anyOf`, and `discriminator`, `default` and `const` (as a one-value `enum`) are
    rewritten. An answer valid under this schema is valid for `ModelAnswer`.
    """
    schema = copy.deepcopy(answer_json_schema(model))
    _make_strict(schema)
    return schema


def _make_strict(node: Any) -> None:
    """Rewrite a JSON schema node in place into the strict subset (see `strict_json_schema`)."""
    if isinstance(node, list):
        for item in node:
            _make_strict(item)
        return
    if not isinstance(node, dict):
        return
    node.pop("discriminator", None)
    node.pop("default", None)
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if node.get("type") == "object" and "properties" in node:
        node["additionalProperties"] = False
        node["required"] = list(node["properties"])
    for key, value in node.items():
        if key in ("properties", "$defs"):  # maps of name -> schema, not schemas themselves
            _make_strict(list(value.values()))
        elif key not in ("enum", "required"):
            _make_strict(value)


#: Schemas a prompt file may name in `answer_schema`.
ANSWER_SCHEMAS: dict[str, type[BaseModel]] = {"ModelAnswer": ModelAnswer}
