"""Eval scenarios: records, the scenario file format, and loading.

One YAML file per scenario under `evals/scenarios/` (any depth)::

    id: hand/and-vs-or-basic          # unique; runs and reports refer to it
    family: and-vs-or                 # what mistake it targets (see generator.TEMPLATES, or `realistic`)
    scale: 5                          # nominal number of workloads (5, 20, 80, 300)
    description: one or two sentences
    prompts: [flows, breakage]        # prompt names asked (a run picks the versions)
    # exactly one source of manifests:
    manifests: [...]                  # inline Kubernetes objects
    manifests_ref: {paths: [corpus/bookinfo/bookinfo.yaml], default_namespace: default}
    generate: {template: and-vs-or, seed: 3, workloads: 20}
    deps: [...]                       # deps.yaml entries, or
    deps_ref: corpus/bookinfo/deps.yaml
    expected:                         # optional, hand-checked: guards the verifier itself
      flows: [{from: a/x, to: a/y, port: 80, protocol: TCP, allowed: false}]
      broken: [{from: a/x, to: a/y, port: 80}]
      dns_missing: [a/x]

Generated scenarios are committed as small stub files (`generate:`), expanded at load time
by the seeded generator: each stays one reviewable file with a stable id and its prompts,
while 80- and 300-workload clusters do not put megabytes of machine-written YAML in the
repository. The generator is deterministic (a test checks it), so a stub always means the
same cluster; changing a template changes its scenarios, as changing a prompt changes a run.

`manifests_ref` and `deps_ref` paths are relative to the shared folder (`../shared` beside
the checkout, or `NETREASON_SHARED`); the corpus is referenced, never copied. Ground truth is
not in these files: the verifier computes it at scoring time.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import verifier
from verifier.model.errors import InputError
from verifier.model.bundle import Bundle

from .builds import build

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SCALES = (5, 20, 80, 300)


def shared_dir() -> Path:
    """The read-only shared folder: `NETREASON_SHARED`, else `../shared` beside the checkout."""
    default = Path(__file__).resolve().parents[2] / "shared"
    return Path(os.environ.get("NETREASON_SHARED", default)).resolve()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ManifestsRef(_Strict):
    paths: list[str]
    default_namespace: str = "default"


class GenerateSpec(_Strict):
    template: str
    seed: int
    workloads: int = Field(ge=1, le=5000)


class ExpectedFlow(_Strict):
    from_: str = Field(alias="from")
    to: str
    port: int
    protocol: str = "TCP"
    allowed: bool


class ExpectedDep(_Strict):
    from_: str = Field(alias="from")
    to: str
    port: int
    protocol: str = "TCP"


class Expected(_Strict):
    flows: list[ExpectedFlow] = []
    broken: list[ExpectedDep] = []
    dns_missing: list[str] = []


class ScenarioFile(_Strict):
    """The schema of one scenario file."""

    id: str
    family: str
    scale: int = Field(ge=1)
    description: str
    prompts: list[str] = Field(min_length=1)
    manifests: list[dict[str, Any]] | None = None
    manifests_ref: ManifestsRef | None = None
    generate: GenerateSpec | None = None
    deps: list[dict[str, Any]] | None = None
    deps_ref: str | None = None
    expected: Expected | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ScenarioFile:
        sources = [s for s in (self.manifests, self.manifests_ref, self.generate) if s is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of manifests, manifests_ref, generate")
        if self.deps is not None and self.deps_ref is not None:
            raise ValueError("give deps or deps_ref, not both")
        return self


class ScenarioError(InputError):
    """A scenario file that does not load; the message names the file and the field."""


@dataclass(frozen=True)
class ScenarioInput:
    """What a scenario puts in front of the verifier and the model."""

    bundle: Bundle
    deps: list[dict[str, Any]] | None


@dataclass(frozen=True)
class Scenario:
    """One scenario: its file record plus where it came from. `load()` builds the bundle (cached)."""

    spec: ScenarioFile
    path: Path

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def family(self) -> str:
        return self.spec.family

    @property
    def scale(self) -> int:
        return self.spec.scale

    def asks(self, prompt_ref: str) -> bool:
        """Whether this scenario is asked prompt `prompt_ref` (`flows@2` matches `flows`)."""
        name = prompt_ref.split("@", 1)[0]
        return any(p.split("@", 1)[0] == name for p in self.spec.prompts)

    def load(self) -> ScenarioInput:
        """The bundle and deps (computed once per Scenario object).

        Raises:
            ScenarioError: a referenced file is missing or a template is unknown.
        """
        return self._input

    @cached_property
    def _input(self) -> ScenarioInput:
        s = self.spec
        try:
            if s.generate is not None:
                g = build(s.generate.template, s.generate.seed, s.generate.workloads)
                return ScenarioInput(verifier.load_documents(g.manifests, name=s.id), g.deps)
            if s.manifests is not None:
                return ScenarioInput(verifier.load_documents(s.manifests, name=str(self.path)), self._deps())
            assert s.manifests_ref is not None
            paths = [str(self._shared(p)) for p in s.manifests_ref.paths]
            bundle = verifier.load_bundle(paths, default_namespace=s.manifests_ref.default_namespace)
            return ScenarioInput(bundle, self._deps())
        except KeyError as exc:
            raise ScenarioError(str(exc.args[0]), field_path="generate.template") from None

    def _deps(self) -> list[dict[str, Any]] | None:
        if self.spec.deps_ref is None:
            return self.spec.deps
        data = yaml.safe_load(self._shared(self.spec.deps_ref).read_text())
        return list(data or [])

    def _shared(self, rel: str) -> Path:
        path = shared_dir() / rel
        if not path.exists():
            raise ScenarioError(f"{self.path}: {rel} not found under the shared folder {shared_dir()} "
                                "(set NETREASON_SHARED)")
        return path


def read_scenario(path: Path) -> Scenario:
    """Parse and validate one scenario file.

    Raises:
        ScenarioError: not YAML, or not the scenario schema (message names file and field).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Scenario(ScenarioFile.model_validate(data), path)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors())
        raise ScenarioError(f"{path}: not a scenario file: {problems}") from None


def load_scenarios(directory: Path | None = None, pattern: str | None = None) -> list[Scenario]:
    """Every scenario under `directory` (default: the corpus), optionally filtered by an id glob.

    `pattern` is matched against the scenario id (`gen/and-vs-or/*`) and, failing that, the
    family name. Sorted by id.

    Raises:
        ScenarioError: a file fails to parse, or two files share an id.
    """
    root = directory or SCENARIO_DIR
    scenarios = [read_scenario(p) for p in sorted(root.rglob("*.yaml"))]
    seen: dict[str, Path] = {}
    for s in scenarios:
        if s.id in seen:
            raise ScenarioError(f"{s.path}: scenario id {s.id!r} is also used by {seen[s.id]}")
        seen[s.id] = s.path
    if pattern:
        scenarios = [s for s in scenarios if fnmatch.fnmatchcase(s.id, pattern)
                     or fnmatch.fnmatchcase(s.family, pattern)]
    return sorted(scenarios, key=lambda s: s.id)
