"""Reading manifests: formats, positions, inputs, malformed and hostile input, the corpus."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
import yaml

from verifier.model.errors import InputError, ManifestSyntaxError
from verifier.input.load import load_bundle, load_documents, load_text
from verifier.input.parse import MAX_ALIAS_EXPANSION

DATA = Path(__file__).parent / "data" / "load"
SHARED = Path(__file__).resolve().parents[3] / "shared"
if not SHARED.is_dir():  # CI lays shared/ beside the clone
    SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CORPUS = SHARED / "corpus"
CONFORMANCE = SHARED / "conformance"

POLICY = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: x}}\nspec: "
          "{{podSelector: {{}}}}\n")


def test_multi_document_yaml_records_the_first_line_of_each_object() -> None:
    text = "# header\n\n" + POLICY.format(name="a") + "---\n\n# comment\n" + POLICY.format(name="b")
    bundle = load_text(text, name="p.yaml")
    assert [(p.name, p.source.line, p.source.document) for p in bundle.policies
            if p.source] == [("a", 3, 0), ("b", 10, 1)]


def test_helm_rendered_output_loads_with_comments_empty_documents_and_null_node_port() -> None:
    bundle = load_bundle([DATA / "helm-rendered.yaml"], default_namespace="shop")
    assert bundle.issues == ()
    assert [s.id for s in bundle.services] == ["shop/shop"]
    assert bundle.workloads[0].replicas == 2 and bundle.workloads[0].source.line == 28  # type: ignore[union-attr]
    assert bundle.policies[0].ingress[0].ports[0].port == "http"  # type: ignore[index]
    assert bundle.skipped_kinds == {"ServiceAccount": 1}


def test_kubectl_list_items_are_objects_with_their_own_lines() -> None:
    bundle = load_bundle([DATA / "kubectl-list.yaml"])
    assert [(p.name, p.source.line) for p in bundle.policies if p.source] == [("a", 3)]
    (issue,) = bundle.issues
    assert str(issue).startswith(f"{DATA / 'kubectl-list.yaml'}:19: spec.ingress[0].ports[0].port: invalid port 0")


def test_typed_lists_and_yaml_sequences_are_expanded_too() -> None:
    text = "kind: NetworkPolicyList\napiVersion: networking.k8s.io/v1\nitems:\n- " + \
        POLICY.format(name="a").replace("\n", "\n  ") + "\n---\n- " + POLICY.format(name="b").replace("\n", "\n  ")
    assert [(p.name, p.source.line) for p in load_text(text).policies if p.source] == [("a", 4), ("b", 10)]


def policy_dict(name: str, port: object = 80) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": "x"},
            "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": port}]}]}}


def test_json_object_list_array_and_concatenated_objects_all_load() -> None:
    single = json.dumps(policy_dict("a"), indent=2)
    as_list = json.dumps({"apiVersion": "v1", "kind": "List", "items": [policy_dict("b"), policy_dict("c")]}, indent=2)
    array = json.dumps([policy_dict("d"), policy_dict("e")])
    text = single + "\n" + as_list + "\n" + array
    bundle = load_text(text, name="p.json")
    assert [p.name for p in bundle.policies] == ["a", "b", "c", "d", "e"]
    lines = [p.source.line for p in bundle.policies if p.source]
    assert lines[0] == 1 and lines[1] == single.count("\n") + 2 + 4 and lines[3] == lines[4] == text.count("\n") + 1


def test_json_validation_errors_point_at_the_field_line() -> None:
    text = json.dumps({"kind": "List", "apiVersion": "v1", "items": [policy_dict("a"), policy_dict("b", 0)]}, indent=1)
    (issue,) = load_text(text, name="p.json").issues
    expected = next(i for i, line in enumerate(text.splitlines(), 1) if '"port": 0' in line)
    assert issue.source is not None and issue.source.line == expected
    assert issue.field_path == "spec.ingress[0].ports[0].port"


def test_json_lists_nested_or_with_repeated_items_keep_each_object_line() -> None:
    inner = {"apiVersion": "v1", "kind": "List", "items": [policy_dict("b"), policy_dict("c", 0)]}
    # The decoder keeps the last of two `items` members; so must the item positions.
    text = json.dumps({"kind": "List", "apiVersion": "v1", "items": [policy_dict("z")]}, indent=1)[:-2] + \
        ',\n "items": ' + json.dumps([policy_dict("a"), inner], indent=1) + "\n}"
    bundle = load_text(text, name="p.json")
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines, 1) if line.strip() == '"apiVersion": "networking.k8s.io/v1",']
    assert [(p.name, p.source.line) for p in bundle.policies if p.source] == [("a", starts[1] - 1),
                                                                              ("b", starts[2] - 1)]
    (issue,) = bundle.issues  # c's port 0, at its own line
    assert issue.source is not None and lines[issue.source.line - 1].strip() == '"port": 0'


def test_malformed_json_inside_a_list_reports_the_decoders_own_error() -> None:
    text = '{"kind": "List", "items": [\n {"kind": "Pod"} {"kind": "Pod"}]}'
    (issue,) = load_text(text, name="p.json").issues
    with pytest.raises(json.JSONDecodeError) as plain:
        json.loads(text)
    expected = f"p.json:{plain.value.lineno}: invalid JSON at column {plain.value.colno}: {plain.value.msg}"
    assert str(issue) == expected == "p.json:2: invalid JSON at column 18: Expecting ',' delimiter"


def test_stdin_is_read_for_dash_and_named_dash() -> None:
    bundle = load_bundle(["-"], stdin=io.StringIO(POLICY.format(name="a")))
    assert bundle.policies[0].source is not None and bundle.policies[0].source.file == "-"


def test_directories_are_searched_recursively_in_sorted_order_skipping_hidden_and_other_suffixes() -> None:
    bundle = load_bundle([DATA / "tree"], default_namespace="shop")
    assert [w.name for w in bundle.workloads] == ["web"]
    assert [(p.name, Path(p.source.file).name) for p in bundle.policies
            if p.source] == [("db", "a-db.json"), ("deny", "b-deny.yml")]
    assert bundle.policies[1].source is not None and bundle.policies[1].source.line == 2
    assert bundle.issues == ()


def test_a_file_given_twice_is_loaded_once() -> None:
    path = DATA / "tree" / "apps" / "web.yaml"
    assert len(load_bundle([path, DATA / "tree", str(path)]).workloads) == 1


def test_missing_path_raises_input_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope.yaml: no such file or directory"):
        load_bundle([tmp_path / "nope.yaml"])


def test_unreadable_file_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(POLICY.format(name="a"))
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything
        pytest.skip("running as root: permissions are not enforced")
    with pytest.raises(InputError, match="cannot read file"):
        load_bundle([path])


BROKEN = POLICY.format(name="a") + "---\nmetadata: {name: [b\nspec: 1\n---\n" + POLICY.format(name="c")


def test_malformed_yaml_becomes_an_issue_with_line_and_column_and_other_files_still_load(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BROKEN)
    (tmp_path / "b.yaml").write_text(POLICY.format(name="d"))
    bundle = load_bundle([tmp_path])
    assert [p.name for p in bundle.policies] == ["a", "d"]  # the document before the error is kept
    (issue,) = bundle.issues
    assert issue.severity == "error" and issue.source is not None
    assert (Path(issue.source.file).name, issue.source.line) == ("a.yaml", 7)
    assert "invalid YAML at column 5" in issue.message and "nothing after this point" in issue.message


def test_strict_mode_raises_manifest_syntax_error_with_file_and_line() -> None:
    with pytest.raises(ManifestSyntaxError) as caught:
        load_text(BROKEN, name="broken.yaml", strict=True)
    assert str(caught.value).startswith("broken.yaml:7: invalid YAML at column 5")


def test_malformed_json_reports_line_and_column() -> None:
    (issue,) = load_text('{\n  "kind": "Pod",\n  "apiVersion" "v1"\n}', name="p.json").issues
    assert str(issue) == "p.json:3: invalid JSON at column 16: Expecting ':' delimiter"


def test_non_utf8_file_is_a_syntax_issue(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n")
    (issue,) = load_bundle([path]).issues
    assert issue.source is not None and issue.source.line == 3 and "not UTF-8" in issue.message


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + POLICY.format(name="a").encode())
    assert len(load_bundle([path]).policies) == 1


def billion_laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    header = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n"
    return header + "\n".join("  " + x for x in lines) + "\n"


def test_billion_laughs_document_is_refused_quickly_and_the_next_one_loads() -> None:
    started = time.perf_counter()
    bundle = load_text(billion_laughs(9) + "---\n" + POLICY.format(name="after"), name="bomb.yaml")
    assert time.perf_counter() - started < 5
    (issue,) = bundle.issues
    assert "billion laughs" in issue.message and issue.source is not None and issue.source.line == 1
    assert [p.name for p in bundle.policies] == ["after"] and bundle.other_objects == ()


def test_modest_aliases_are_fine_and_shared() -> None:
    text = billion_laughs(3)  # 1,000 expanded nodes, far below the limit
    assert MAX_ALIAS_EXPANSION > 10 ** 3
    bundle = load_text(text)
    assert bundle.issues == () and bundle.skipped_kinds == {"ConfigMap": 1}


def test_recursive_alias_is_refused() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loop}\ndata: &d\n  self: *d\n"
    (issue,) = load_text(text).issues
    assert "recursive" in issue.message


def test_deep_nesting_is_a_syntax_issue_not_a_crash() -> None:
    (issue,) = load_text("a: " + "[" * 5000 + "]" * 5000).issues
    assert "nesting" in issue.message
    (issue,) = load_text("[" * 100_000 + "]" * 100_000).issues
    assert issue.severity == "error"


def test_merge_keys_fall_back_to_the_standard_constructor() -> None:
    text = ("apiVersion: v1\nkind: Pod\nmetadata: &m {name: a, labels: {app: a}}\n"
            "spec: {containers: [{<<: {name: c}, ports: [{containerPort: 80}]}]}\n")
    (pod,) = load_text(text).workloads
    assert pod.ports[0].port == 80


def test_fast_loader_builds_the_same_values_as_pyyaml() -> None:
    text = (DATA / "helm-rendered.yaml").read_text() + ("---\nvalues: [1, 0x1f, 1.5, .inf, ~, yes, 'yes', 2024-01-02, "
                                                        "1_000, 190:20:30, !!binary aGk=]\n")
    from verifier.input.parse import parse_text
    docs, errors = parse_text(text, "x")
    assert errors == []
    expected = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
    assert [d.data for d in docs] == expected


def test_load_documents_expands_lists_and_numbers_documents() -> None:
    docs = [{"kind": "List", "apiVersion": "v1", "items": [policy_dict("a")]}, None, policy_dict("b")]
    bundle = load_documents(docs, name="scenario.yaml")
    assert [(p.name, p.source.document, p.source.line) for p in bundle.policies
            if p.source] == [("a", 0, 0), ("b", 2, 0)]


# --- shared corpus and conformance manifests ---------------------------------------------

needs_shared = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/ corpus not present")


def corpus_apps() -> list[dict]:
    if not CORPUS.is_dir():
        return []
    return list(yaml.safe_load((CORPUS / "index.yaml").read_text())["apps"])


@needs_shared
@pytest.mark.parametrize("app", corpus_apps(), ids=lambda app: app["name"])
def test_corpus_apps_load_without_errors(app: dict) -> None:
    paths = [CORPUS / app["dir"] / m for m in app["manifests"]]
    bundle = load_bundle(paths, default_namespace=app["default_namespace"])
    assert [str(i) for i in bundle.issues if i.severity != "info"] == []
    assert bundle.workloads and bundle.services
    deps = yaml.safe_load((CORPUS / app["dir"] / app["deps"]).read_text())
    ids = {w.name for w in bundle.workloads}
    assert {d["from"] for d in deps} <= ids


@needs_shared
def test_sock_shop_defines_its_namespace_twice_and_the_annotated_one_wins() -> None:
    app = next(a for a in corpus_apps() if a["name"] == "sock-shop")
    bundle = load_bundle([CORPUS / app["dir"] / m for m in app["manifests"]], default_namespace="sock-shop")
    (issue,) = bundle.issues
    assert issue.severity == "info" and issue.object == "Namespace sock-shop"
    assert "net.beta.kubernetes.io/network-policy" in bundle.namespaces["sock-shop"].annotations
    cortex = next(p for p in bundle.policies if p.name == "cortex-access")
    assert cortex.pod_selector.is_empty  # podSelector: {matchLabels: null}


@needs_shared
def test_bitnami_secrets_and_config_maps_are_kept_by_name_only() -> None:
    bundle = load_bundle([CORPUS / "bitnami-wordpress" / "default" / "manifests.yaml"], default_namespace="wordpress")
    secrets = [o for o in bundle.other_objects if o.kind == "Secret"]
    assert len(secrets) == 2 and {o.namespace for o in secrets} == {"wordpress"}
    assert bundle.skipped_kinds["ConfigMap"] == 1
    text = (CORPUS / "bitnami-wordpress" / "default" / "manifests.yaml").read_text()
    secret_value = next(line.split(":", 1)[1].strip().strip('"') for line in text.splitlines()
                        if line.strip().startswith("mariadb-root-password:"))
    assert secret_value and secret_value not in repr(bundle)


def scenario_files() -> list[Path]:
    if not CONFORMANCE.is_dir():
        return []
    index = yaml.safe_load((CORPUS / "index.yaml").read_text()) if CORPUS.is_dir() else {}
    return sorted(CONFORMANCE.glob("*.yaml")) + [CORPUS / s for s in index.get("scenarios", [])]


@needs_shared
@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_conformance_manifests_load_cleanly(path: Path) -> None:
    scenario = yaml.safe_load(path.read_text())
    bundle = load_documents(scenario["manifests"], name=str(path), strict=True)
    kinds = {m["kind"] for m in scenario["manifests"]}
    assert bundle.issues == ()
    assert bool(bundle.policies) == ("NetworkPolicy" in kinds)
    assert bundle.workloads


def test_directory_scan_skips_the_declared_dependencies_file(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    (tmp_path / "netreason.deps.yaml").write_text("- {from: web, to: api, namespace: a, port: 80}\n")
    bundle = load_bundle([str(tmp_path)])
    assert not bundle.issues and "a" in bundle.namespaces


def test_named_texts_load_like_files_with_their_names_and_lines() -> None:
    from verifier import load_texts

    bundle = load_texts([("a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"),
                         ("b.yaml",
                          "---\nkind: Pod\napiVersion: v1\nmetadata: {name: p, namespace: a}\nspec: {containers: "
                          "[{name: c, image: i}]}\n"),
                         ("c.yaml", "kind: [")])
    [pod] = bundle.workloads
    assert pod.source is not None and (pod.source.file, pod.source.line) == ("b.yaml", 2)
    assert [i.source.file for i in bundle.issues if i.source and i.severity == "error"] == ["c.yaml"]
