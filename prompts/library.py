"""The prompt library: versioned prompt files in `prompts/library/`, loaded and rendered.

One YAML file per prompt and version, named `NAME@VERSION.yaml` (`flows@1.yaml`). Files whose
name starts with `_` are fragments (`_brief-notation@1.yaml`): shared system text that a
prompt lists under `include`. Fragments are versioned like prompts: never edit a released
one, add `_NAME@N+1.yaml` and new prompt versions that include it. A prompt file holds:

    name, version, description
    answer_schema   name of a pydantic model in `verifier.claims.schema.ANSWER_SCHEMAS`;
                    its strict JSON schema is attached at load time, never written in the file
    claim_types     the claim types the prompt asks for (`verifier.claims.schema.CLAIM_TYPES`): the
                    truth items of these types that no claim mentions are reported as missed
    include         fragment refs whose text precedes `system`
    variables       name -> {description, default?}: every `{name}` the templates use
    system, user    langchain-core f-string templates (`{brief}`; a literal brace is `{{`)
    examples        few-shot turns: {variables, answer}; the user turn is `user` rendered with
                    those variables, the assistant turn the answer as JSON (validated at load)

Unknown keys are rejected with the file, line and key. A rendered prompt carries its
`name@version` so logs and eval runs can record it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from verifier.claims.schema import ANSWER_SCHEMAS, CLAIM_TYPES, describe_validation_error, strict_json_schema
from verifier.model.errors import NetreasonError

LIBRARY_DIR = Path(__file__).resolve().parent / "library"

_FILE_NAME = re.compile(r"^(?P<name>[a-z][a-z0-9-]*)@(?P<version>[1-9][0-9]*)\.yaml$")
_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class PromptError(NetreasonError):
    """A prompt file that does not load, or a render call with wrong variables."""


class UnknownPrompt(PromptError):
    """A prompt reference that names no file in the library."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariableFile(_Strict):
    description: str
    default: str | None = None


class ExampleFile(_Strict):
    variables: dict[str, str]
    answer: dict[str, Any]


class PromptFile(_Strict):
    """The schema of a `NAME@VERSION.yaml` prompt file."""

    name: str
    version: int = Field(ge=1)
    description: str
    answer_schema: str
    claim_types: list[str] = []
    include: list[str] = []
    variables: dict[str, VariableFile]
    system: str
    user: str
    examples: list[ExampleFile] = []


class FragmentFile(_Strict):
    """The schema of a `_NAME@VERSION.yaml` fragment file."""

    fragment: str
    version: int = Field(ge=1)
    text: str


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready to send: system text, the conversation after it, and the answer schema.

    `messages` are `{"role": "user"|"assistant", "content": str}` dicts (few-shot turns, then
    the question); the system text is separate because providers take it separately.
    """

    ref: str
    system: str
    messages: list[dict[str, str]]
    json_schema: dict[str, Any]
    schema_name: str

    def to_langchain_messages(self) -> list[BaseMessage]:
        """The whole prompt as langchain-core messages, system message first."""
        kinds = {"user": HumanMessage, "assistant": AIMessage}
        return [SystemMessage(content=self.system)] + [kinds[m["role"]](content=m["content"]) for m in self.messages]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for `prompts render --json` and run logs)."""
        return {
            "ref": self.ref,
            "schema_name": self.schema_name,
            "system": self.system,
            "messages": self.messages,
            "json_schema": self.json_schema,
        }


@dataclass(frozen=True)
class PromptSpec:
    """One loaded prompt version; `render(**variables)` fills it in."""

    name: str
    version: int
    description: str
    schema_name: str
    json_schema: dict[str, Any]
    variables: Mapping[str, VariableFile]
    path: Path
    system: str = field(repr=False)  # system template, included fragments first
    user: str = field(repr=False)  # user template
    examples: int  # number of few-shot examples
    template: ChatPromptTemplate = field(repr=False, compare=False)
    #: The claim types the prompt asks for: only those produce `missed` items.
    claim_types: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def render(self, **variables: object) -> RenderedPrompt:
        """Fill the templates with `variables` (values are turned into text with `str`).

        Raises:
            PromptError: a variable without a default is missing, or an unknown one is given.
        """
        values = _resolve_variables(self.ref, self.variables, variables)
        rendered = self.template.format_messages(**values)
        system = "\n\n".join(str(m.content) for m in rendered if m.type == "system")
        messages = [{"role": _ROLES[m.type], "content": str(m.content)} for m in rendered if m.type != "system"]
        return RenderedPrompt(self.ref, system, messages, self.json_schema, self.schema_name)


def _resolve_variables(
    ref: str, declared: Mapping[str, VariableFile], given: Mapping[str, object]
) -> dict[str, str]:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise PromptError(f"{ref}: unknown variable(s) {', '.join(unknown)}; it takes {', '.join(sorted(declared))}")
    values = {k: v.default for k, v in declared.items() if v.default is not None}
    values.update({k: str(v) for k, v in given.items()})
    missing = sorted(set(declared) - set(values))
    if missing:
        raise PromptError(f"{ref}: missing variable(s) {', '.join(missing)}")
    return values


def load_prompt(ref: str, directory: Path | None = None) -> PromptSpec:
    """Load `NAME` (its latest version) or `NAME@VERSION` from the library.

    Raises:
        UnknownPrompt: no such prompt or version; the message lists what exists.
        PromptError: the file is malformed (message names file, line and key).
    """
    specs = _load_library(directory or LIBRARY_DIR)
    name, _, version = ref.partition("@")
    matches = [s for s in specs if s.name == name and (not version or str(s.version) == version)]
    if not matches:
        available = ", ".join(s.ref for s in specs) or "(none)"
        raise UnknownPrompt(f"unknown prompt {ref!r}; available: {available}")
    return max(matches, key=lambda s: s.version)


def list_prompts(directory: Path | None = None) -> list[PromptSpec]:
    """Every prompt version in the library, sorted by name then version.

    Raises:
        PromptError: a file is malformed.
    """
    return list(_load_library(directory or LIBRARY_DIR))


@cache
def _load_library(directory: Path) -> tuple[PromptSpec, ...]:
    fragments = {
        f"{frag.fragment}@{frag.version}": frag.text
        for frag in (_load_fragment(p) for p in sorted(directory.glob("_*.yaml")))
    }
    paths = sorted(p for p in directory.glob("*.yaml") if not p.name.startswith("_"))
    specs = [_load_prompt_file(p, fragments) for p in paths]
    return tuple(sorted(specs, key=lambda s: (s.name, s.version)))


def _load_fragment(path: Path) -> FragmentFile:
    data, root = _read_yaml(path)
    frag: FragmentFile = _validate(FragmentFile, data, root, path)
    _check_file_name(path, frag.fragment, frag.version, prefix="_")
    return frag


def _load_prompt_file(path: Path, fragments: Mapping[str, str]) -> PromptSpec:
    data, root = _read_yaml(path)
    spec: PromptFile = _validate(PromptFile, data, root, path)
    _check_file_name(path, spec.name, spec.version)
    model = ANSWER_SCHEMAS.get(spec.answer_schema)
    if model is None:
        raise PromptError(
            f"{path}:{_line(root, ['answer_schema'])}: answer_schema: unknown schema {spec.answer_schema!r}; "
            f"known: {', '.join(sorted(ANSWER_SCHEMAS))}"
        )
    unknown_types = [t for t in spec.claim_types if t not in CLAIM_TYPES]
    if unknown_types:
        raise PromptError(f"{path}:{_line(root, ['claim_types'])}: claim_types: unknown claim type(s) "
                          f"{', '.join(unknown_types)}; known: {', '.join(CLAIM_TYPES)}")
    missing = [f for f in spec.include if f not in fragments]
    if missing:
        raise PromptError(f"{path}:{_line(root, ['include'])}: include: unknown fragment(s) {', '.join(missing)}")
    system = "\n\n".join(part.strip() for part in [*(fragments[f] for f in spec.include), spec.system])
    template = _build_template(path, root, spec, system, model)
    return PromptSpec(
        spec.name, spec.version, spec.description, spec.answer_schema, strict_json_schema(model),
        dict(spec.variables), path, system, spec.user.rstrip(), len(spec.examples), template,
        tuple(spec.claim_types),
    )


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"{path}: cannot read prompt file: {exc}") from None


def _validate(model: type[_Strict], data: Any, root: yaml.Node | None, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = [str(p) for p in err["loc"]]
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"{path}:{_line(root, loc)}: {_dotted(loc) or '(top level)'}: {msg}")
        raise PromptError("invalid prompt file:\n" + "\n".join(lines)) from None


def _check_file_name(path: Path, name: str, version: int, prefix: str = "") -> None:
    expected = f"{prefix}{name}@{version}.yaml"
    if path.name != expected:
        raise PromptError(f"{path}: name and version say {name}@{version}, so the file must be named {expected}")


def _dotted(loc: list[str]) -> str:
    return "".join(f"[{p}]" if p.isdigit() else (f".{p}" if i else p) for i, p in enumerate(loc))


def _line(node: yaml.Node | None, loc: list[str]) -> int:
    """1-based line of the deepest YAML node on `loc` (for error messages)."""
    line = node.start_mark.line + 1 if node is not None else 0
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                found: yaml.Node = value  # PyYAML's stubs type node values as Any
                return found
    if isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
        item: yaml.Node = node.value[int(part)]
        return item
    return None


def _build_template(
    path: Path, root: yaml.Node | None, spec: PromptFile, system: str, model: type[BaseModel]
) -> ChatPromptTemplate:
    """Compile system + few-shot turns + user; check the templates use exactly the declared variables."""
    user = spec.user.rstrip()
    user_template = ChatPromptTemplate.from_messages([("human", user)])
    used = set(ChatPromptTemplate.from_messages([("system", system), ("human", user)]).input_variables)
    declared = set(spec.variables)
    if used != declared:
        raise PromptError(
            f"{path}:{_line(root, ['variables'])}: variables: templates use {sorted(used)} but the file "
            f"declares {sorted(declared)} (a literal brace in a template is written {{{{ or }}}})"
        )
    turns: list[Any] = [("system", system)]
    for i, example in enumerate(spec.examples):
        turns += _example_turns(path, root, spec, i, example, user_template, model)
    turns.append(("human", user))
    return ChatPromptTemplate.from_messages(turns)


def _example_turns(
    path: Path, root: yaml.Node | None, spec: PromptFile, index: int,
    example: ExampleFile, user_template: ChatPromptTemplate, model: type[BaseModel],
) -> list[BaseMessage]:
    """A few-shot example as message objects, so braces in them are never read as template fields."""
    where = f"{path}:{_line(root, ['examples', str(index)])}: examples[{index}]"
    try:
        values = _resolve_variables(spec.name, spec.variables, example.variables)
        answer = model.model_validate(example.answer)
    except PromptError as exc:
        raise PromptError(f"{where}.variables: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(describe_validation_error(exc))
        raise PromptError(f"{where}.answer: does not fit {spec.answer_schema}: {problems}") from None
    user = user_template.format_messages(**values)[0].content
    content = json.dumps(answer.model_dump(mode="json", by_alias=True), ensure_ascii=False)
    return [HumanMessage(content=user), AIMessage(content=content)]
