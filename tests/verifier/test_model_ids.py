"""`Workload.id` and `NetworkPolicy.id` are stored once at construction: they must always be "namespace/name"
and take no part in equality, hashing or repr (they were properties before)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

import pytest

from verifier.input.load import load_bundle
from verifier.model.bundle import LabelSelector, NetworkPolicy, Requirement, Rule, Workload

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def _objects() -> list[Workload | NetworkPolicy]:
    return [Workload("Deployment", "shop", "api", {"app": "api"}, replicas=3),
            NetworkPolicy("shop", "deny", LabelSelector(), ("Ingress",), ingress=(Rule(),))]


@pytest.mark.parametrize("obj", _objects(), ids=lambda o: type(o).__name__)
def test_id_follows_namespace_and_name_through_every_copy(obj: Workload | NetworkPolicy) -> None:
    assert obj.id == "shop/" + obj.name
    moved = dataclasses.replace(obj, namespace="other", name="x")
    assert moved.id == "other/x"
    assert dataclasses.replace(obj).id == obj.id
    assert pickle.loads(pickle.dumps(moved)).id == "other/x"
    assert copy.deepcopy(moved).id == "other/x"
    assert copy.copy(moved).id == "other/x"


@pytest.mark.parametrize("obj", _objects(), ids=lambda o: type(o).__name__)
def test_id_is_not_part_of_equality_hash_repr_or_init(obj: Workload | NetworkPolicy) -> None:
    twin = dataclasses.replace(obj)
    assert twin == obj
    if isinstance(obj, NetworkPolicy):  # a workload holds dicts: unhashable, as before
        assert hash(twin) == hash(obj)
    assert pickle.loads(pickle.dumps(obj)) == obj
    assert "id=" not in repr(obj)
    assert "id" not in type(obj).__match_args__
    with pytest.raises(ValueError):
        dataclasses.replace(obj, id="forged/id")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        type(obj)(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}, id="forged/id")
    with pytest.raises(dataclasses.FrozenInstanceError):
        obj.id = "other/x"  # type: ignore[misc]


def test_loaded_bundle_ids() -> None:
    bundle = load_bundle([str(SHOP)])
    assert bundle.workloads and bundle.policies
    for obj in (*bundle.workloads, *bundle.policies):
        assert obj.id == f"{obj.namespace}/{obj.name}"


def test_with_pod_selector_equals_replace_with_every_field_set() -> None:
    """`NetworkPolicy.with_pod_selector` (how a fix round applies a podSelector fix) is `replace` of the
    podSelector, passing on every other field, including any added later."""
    values = {f.name: f"x-{f.name}" for f in dataclasses.fields(NetworkPolicy) if f.init}
    values.update(pod_selector=LabelSelector(), policy_types=("Ingress", "Egress"), ingress=(Rule(),), egress=())
    p = NetworkPolicy(**values)
    other = LabelSelector((Requirement("app", "In", ("web",)),))
    moved = p.with_pod_selector(other)
    assert moved == dataclasses.replace(p, pod_selector=other) and moved.pod_selector is other
    for field in dataclasses.fields(NetworkPolicy):
        if field.name != "pod_selector":
            assert getattr(moved, field.name) == getattr(p, field.name), field.name
