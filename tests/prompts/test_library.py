"""The prompt library: loading, rejecting bad files, rendering, and few-shot examples that hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from prompts.library import LIBRARY_DIR, PromptError, UnknownPrompt, list_prompts, load_prompt
from service.brief import render_brief
from service.plan_explain import after_truth, plan_variables
from service.truth import compute_truth
from verifier.claims.schema import AnswerParseError, ModelAnswer, strict_json_schema
from verifier.deps.declared import as_dependency
from verifier.engine.explain import Explainer
from verifier.rollout.plan import make_plan, plan_json
from verifier.sets.selectors import matches

from .example_bundles import EXAMPLES

REFS = ["ask@1", "breakage@1", "dns@1", "flows@1", "flows@2", "plan@1", "repair@1", "review@1"]
BRIEF_PROMPTS = ["ask@1", "breakage@1", "dns@1", "flows@1", "flows@2", "plan@1", "review@1"]
SAMPLE_VARS = {"question": "Can shop/web reach shop/db?", "bad_output": "{oops", "error": "not JSON",
               "plan": "1 step(s)"}


def _vars(spec, brief="namespaces: none\n"):
    values = {k: v for k, v in SAMPLE_VARS.items() if k in spec.variables}
    if "brief" in spec.variables:
        values["brief"] = brief
    return values


@pytest.fixture
def library(tmp_path):
    """A writable copy of the shipped library."""
    for path in LIBRARY_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_library_holds_the_eight_prompts():
    assert [s.ref for s in list_prompts()] == REFS


def test_bare_name_loads_the_latest_version(library):
    text = (library / "flows@1.yaml").read_text().replace("version: 1", "version: 3", 1)
    (library / "flows@3.yaml").write_text(text)
    assert load_prompt("flows", library).version == 3
    assert load_prompt("flows@1", library).version == 1


@pytest.mark.parametrize("ref", ["nope", "flows@9"])
def test_unknown_prompt_lists_what_exists(ref):
    with pytest.raises(UnknownPrompt) as info:
        load_prompt(ref)
    assert f"unknown prompt {ref!r}" in str(info.value)
    assert "available: ask@1, breakage@1, dns@1, flows@1, flows@2, plan@1, repair@1, review@1" in str(info.value)


def test_unknown_key_names_file_line_and_key(library):
    _rewrite(library / "dns@1.yaml", "answer_schema: ModelAnswer", "answer_schema: ModelAnswer\nanswer_shcema: x")
    with pytest.raises(PromptError) as info:
        load_prompt("dns", library)
    assert f"{library / 'dns@1.yaml'}:5: answer_shcema: unknown key" in str(info.value)


def test_unknown_key_in_an_example_is_located(library):
    _rewrite(library / "ask@1.yaml", "    answer:\n", "    answr: {}\n    answer:\n")
    with pytest.raises(PromptError) as info:
        load_prompt("ask", library)
    assert "examples[0].answr: unknown key" in str(info.value)


def test_unknown_fragment_key_is_rejected(library):
    _rewrite(library / "_answer-format@1.yaml", "version: 1", "version: 1\ntitle: x")
    with pytest.raises(PromptError, match=r"_answer-format@1.yaml:3: title: unknown key"):
        load_prompt("dns", library)


def test_unescaped_brace_in_a_template_is_caught(library):
    _rewrite(library / "dns@1.yaml", "Task: find", 'Task: answer like {"claims": []} and find')
    with pytest.raises(PromptError, match=r"dns@1.yaml:\d+: variables: templates use .* literal brace"):
        load_prompt("dns", library)


def test_declared_but_unused_variable_is_caught(library):
    _rewrite(library / "dns@1.yaml", "variables:\n", "variables:\n  focus:\n    description: unused\n")
    with pytest.raises(PromptError, match=r"declares \['brief', 'focus'\]"):
        load_prompt("dns", library)


def test_file_name_must_match_name_and_version(library):
    (library / "dns@1.yaml").rename(library / "dns@3.yaml")
    with pytest.raises(PromptError, match=r"must be named dns@1.yaml"):
        list_prompts(library)


def test_unknown_answer_schema_is_rejected(library):
    _rewrite(library / "dns@1.yaml", "answer_schema: ModelAnswer", "answer_schema: Answer")
    with pytest.raises(PromptError, match=r"dns@1.yaml:4: answer_schema: unknown schema 'Answer'; known: ModelAnswer"):
        load_prompt("dns", library)


def test_few_shot_answer_must_fit_the_schema(library):
    _rewrite(library / "dns@1.yaml", "workload: app/b", "workload: b")
    with pytest.raises(PromptError,
                       match=r"dns@1.yaml:\d+: examples\[0\].answer: does not fit ModelAnswer: claims\[0\].workload: "
                             r"Value error, expected 'namespace/name'"):
        load_prompt("dns", library)


@pytest.mark.parametrize("ref", REFS)
def test_render_carries_ref_schema_and_turns(ref):
    spec = load_prompt(ref)
    rendered = spec.render(**_vars(spec))
    assert rendered.ref == ref and rendered.schema_name == "ModelAnswer"
    assert rendered.json_schema == strict_json_schema()
    assert "Reply with one JSON object" in rendered.system
    roles = [m["role"] for m in rendered.messages]
    assert roles == ["user", "assistant"] * spec.examples + ["user"]
    assert spec.examples >= 1


@pytest.mark.parametrize("ref", REFS)
def test_few_shot_answers_parse_as_model_answers(ref):
    spec = load_prompt(ref)
    for message in spec.render(**_vars(spec)).messages:
        if message["role"] == "assistant":
            ModelAnswer.parse_text(message["content"])


def test_braces_in_values_reach_the_model_verbatim():
    brief = "policies:\n  a/p: selects *; isolates ingress; in[0]: from {pods app=api} ports TCP/80\n"
    rendered = load_prompt("flows@1").render(brief=brief, focus="{ns x}")
    assert brief in rendered.messages[-1]["content"]
    assert "Decide: {ns x}" in rendered.messages[-1]["content"]
    assert "{pods S} = pods matching S" in rendered.system  # the fragment's escaped braces come out single


def test_defaults_fill_optional_variables():
    rendered = load_prompt("review@1").render(brief="B", flows_added="a/x -> a/y TCP/80")
    last = rendered.messages[-1]["content"]
    assert "Flows added:\na/x -> a/y TCP/80\nFlows removed:\nnone" in last


def test_missing_and_unknown_variables_are_errors():
    spec = load_prompt("ask@1")
    with pytest.raises(PromptError, match=r"ask@1: missing variable\(s\) question"):
        spec.render(brief="B")
    with pytest.raises(PromptError, match=r"ask@1: unknown variable\(s\) qestion; it takes brief, question"):
        spec.render(brief="B", qestion="?")


def test_langchain_messages_follow_the_rendered_prompt():
    rendered = load_prompt("dns@1").render(brief="B")
    messages = rendered.to_langchain_messages()
    assert isinstance(messages[0], SystemMessage) and messages[0].content == rendered.system
    assert [type(m) for m in messages[1:]] == [HumanMessage, AIMessage, HumanMessage]
    assert [m.content for m in messages[1:]] == [m["content"] for m in rendered.messages]


def test_repair_example_shows_the_error_parse_text_really_gives():
    example = yaml.safe_load(load_prompt("repair@1").path.read_text())["examples"][0]["variables"]
    with pytest.raises(AnswerParseError) as info:
        ModelAnswer.parse_text(example["bad_output"])
    assert str(info.value) == example["error"]


# --- few-shot examples against the real brief and the real evaluator -----------------------


def _example(ref):
    spec = load_prompt(ref)
    raw = yaml.safe_load(spec.path.read_text())["examples"][0]
    return raw["variables"], ModelAnswer.model_validate(raw["answer"])


def test_every_brief_prompt_has_a_checked_example():
    assert sorted(EXAMPLES) == BRIEF_PROMPTS


def plan_example():
    """The plan@1 example's cluster run through the real plan: (bundle after the plan, its deps, plan document)."""
    bundle, deps = EXAMPLES["plan@1"]
    truth = compute_truth(bundle, deps=deps, deps_origin="deps", infer=False)
    plan = make_plan(truth.bundle, [r.dependency for r in truth.dependencies])
    after = after_truth(truth, plan, deps=deps, deps_origin="deps", infer=False)
    return after.bundle, [r.dependency for r in after.dependencies], plan_json(plan)


def _checked(ref):
    """The bundle and dependencies an example's brief shows (for plan@1: the cluster after the plan)."""
    if ref == "plan@1":
        bundle, deps, _ = plan_example()
        return bundle, deps
    return EXAMPLES[ref]


@pytest.mark.parametrize("ref", BRIEF_PROMPTS)
def test_example_brief_is_exactly_what_render_brief_prints(ref):
    bundle, deps = _checked(ref)
    variables, _ = _example(ref)
    assert variables["brief"] == render_brief(bundle, deps)


def test_plan_example_is_exactly_what_the_plan_renderer_prints():
    _, _, doc = plan_example()
    variables, _ = _example("plan@1")
    assert doc["verified"] and variables["plan"] == plan_variables(doc)["plan"]


def _service_targets(bundle, dep):
    """(workload id, container port) pairs a dependency on a Service reaches."""
    ns, name = dep.dialled.split("/")
    service = next(s for s in bundle.services if (s.namespace, s.name) == (ns, name))
    sp = next(p for p in service.ports if p.port == dep.dialled_port and p.protocol == dep.protocol)
    for w in bundle.workloads:
        if w.namespace == ns and matches_labels(service.selector, w.labels):
            if isinstance(sp.target_port, int):
                yield w.id, sp.target_port
            else:
                yield w.id, next(c.port for c in w.ports if c.name == sp.target_port)


def matches_labels(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def _dependency_broken(bundle, dep):
    explainer = Explainer(bundle)
    return any(not explainer.check(dep.src, w, port, dep.protocol).allowed for w,
               port in _service_targets(bundle, dep))


def _dns_missing(bundle, workload):
    explainer = Explainer(bundle)
    dns = [w for w in bundle.workloads if w.namespace == "kube-system" and w.labels.get("k8s-app") == "kube-dns"]
    assert dns, "examples that judge DNS list the DNS pods"
    return any(not explainer.check(workload, d.id, 53, proto).allowed for d in dns for proto in ("UDP", "TCP"))


@pytest.mark.parametrize("ref", BRIEF_PROMPTS)
def test_example_claims_hold_under_the_verifier(ref):
    bundle, _deps = _checked(ref)
    _, answer = _example(ref)
    explainer = Explainer(bundle)
    for claim in answer.claims:
        if claim.type == "flow":
            assert explainer.check(claim.from_, claim.to, claim.port, claim.protocol).allowed == claim.allowed, claim
        elif claim.type == "dependency_broken":
            assert _dependency_broken(bundle, as_dependency(claim.model_dump(by_alias=True))), claim
        elif claim.type == "dns_egress_missing":
            assert (_dns_missing(bundle, claim.workload) if ref == "dns@1"
                    else claim.workload in {w.id for w in bundle.workloads})
        elif claim.type == "policy_selects":
            policy = next(p for p in bundle.policies if p.id == claim.policy)
            selected = [w.id for w in bundle.workloads if w.namespace == policy.namespace
                        and matches(policy.pod_selector, w.labels)]
            assert sorted(claim.workloads) == sorted(selected), claim


def test_breakage_example_claims_every_broken_dependency_and_nothing_else():
    bundle, deps = EXAMPLES["breakage@1"]
    _, answer = _example("breakage@1")
    claimed = {(c.from_, c.to, c.port) for c in answer.claims}
    broken = {(d.src, d.dialled, d.dialled_port) for d in map(as_dependency, deps) if _dependency_broken(bundle, d)}
    assert claimed == broken and broken


def test_dns_example_claims_exactly_the_workloads_without_dns():
    bundle, _ = EXAMPLES["dns@1"]
    _, answer = _example("dns@1")
    missing = {w.id for w in bundle.workloads if w.namespace != "kube-system" and _dns_missing(bundle, w.id)}
    assert {c.workload for c in answer.claims} == missing == {"app/b"}


def test_review_example_dns_claims_hold_with_assumed_dns_pods():
    """The review example's brief lists no DNS pods: the prompt says to assume kube-dns exists."""
    from dataclasses import replace

    from .example_bundles import _coredns, ns

    bundle, _ = EXAMPLES["review@1"]
    with_dns = replace(bundle, namespaces={**bundle.namespaces, "kube-system": ns("kube-system")},
                       workloads=(*bundle.workloads, _coredns))
    _, answer = _example("review@1")
    claimed = {c.workload for c in answer.claims if c.type == "dns_egress_missing"}
    assert claimed == {w.id for w in bundle.workloads if _dns_missing(with_dns, w.id)} == {"shop/api", "shop/db"}


def test_plan_example_claims_every_kept_dependency_as_an_allowed_flow():
    _, _, doc = plan_example()
    _, answer = _example("plan@1")
    kept = {(d["from"], d["to"], d["port"]) for s in doc["steps"] for d in s["dependencies"]}
    claimed = {(c.from_, c.to, c.port) for c in answer.claims if c.type == "flow" and c.allowed}
    assert claimed == kept and len(kept) == 2
