"""`netreason flows --exposure` and the exposure section of `analyze`: who can reach a workload from outside."""

from __future__ import annotations

import json

from click.testing import CliRunner

from service.cli import cli

APP = """
apiVersion: v1
kind: Namespace
metadata: {name: ingress-nginx}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}
  template:
    metadata: {labels: {app.kubernetes.io/name: ingress-nginx}}
    spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: web, image: web, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: admin, namespace: shop, labels: {app: admin}}
spec: {containers: [{name: a, image: a, ports: [{containerPort: 9000}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: admin, namespace: shop}
spec: {type: LoadBalancer, selector: {app: admin}, ports: [{port: 443, targetPort: 9000}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  ingressClassName: nginx
  rules: [{host: shop.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-ingress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}]
    ports: [{port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: admin-office, namespace: shop}
spec:
  podSelector: {matchLabels: {app: admin}}
  ingress:
  - from: [{ipBlock: {cidr: 203.0.113.0/24}}]
    ports: [{port: 9000}]
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: admin-route, namespace: shop}
spec: {to: {kind: Service, name: admin}, port: {targetPort: 9000}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-route, namespace: shop}
spec:
  parentRefs: [{name: public, namespace: gateways}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
"""


def run(tmp_path, *args: str, text: str = APP):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return CliRunner().invoke(cli, [args[0], str(path), *args[1:]], catch_exceptions=False)


def points(doc: dict, workload: str) -> dict:
    (w,) = [w for w in doc["workloads"] if w["id"] == workload]
    return {(p["kind"], p["object"]): p for p in w["entry_points"]}


def test_exposure_json_lists_outside_ingress_and_entry_points_checked_from_the_controller(tmp_path) -> None:
    result = run(tmp_path, "flows", "--exposure", "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "netreason.exposure/v1"
    assert doc["controllers"] == ["ingress-nginx/ingress-nginx-controller"]
    web = points(doc, "shop/web")
    assert web[("Ingress", "shop/web")]["allowed"] is True and web[("Ingress", "shop/web")]["target_port"] == 8080
    assert web[("HTTPRoute", "shop/web-route")]["allowed"] is True
    admin = points(doc, "shop/admin")
    assert admin[("Service/LoadBalancer", "shop/admin")]["allowed"] is True  # the office ipBlock admits outside sources
    assert admin[("Route", "shop/admin-route")]["allowed"] is False  # the router may not connect: only the office may
    (outside,) = [w["external_ingress"] for w in doc["workloads"] if w["id"] == "shop/admin"]
    assert outside == [{"cidr": "203.0.113.0/24", "except": [], "protocol": "TCP", "ports": [[9000, 9000]],
                        "rule": "ingress rule 0 of shop/admin-office"}]
    (web_outside,) = [w["external_ingress"] for w in doc["workloads"] if w["id"] == "shop/web"]
    assert web_outside == []


def test_the_controller_is_configurable_and_the_table_says_what_is_blocked(tmp_path) -> None:
    result = run(tmp_path, "flows", "--exposure", "--ingress-controller", "shop/app=admin")
    assert result.exit_code == 0
    assert "ingress controllers (external actors): shop/admin" in result.stdout
    assert "BLOCKED via Ingress shop/web" in result.stdout and "needs namespace" in result.stdout
    bad = run(tmp_path, "flows", "--exposure", "--ingress-controller", "shop/app")
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


def test_without_a_controller_the_route_is_unchecked_not_guessed(tmp_path) -> None:
    text = APP.replace("app.kubernetes.io/name: ingress-nginx", "app: proxy")
    doc = json.loads(run(tmp_path, "flows", "--exposure", "-o", "json", text=text).stdout)
    entry = points(doc, "shop/web")[("Ingress", "shop/web")]
    assert entry["allowed"] is None and "--ingress-controller" in entry["explanation"]


def test_analyze_json_and_text_carry_the_exposure(tmp_path) -> None:
    doc = json.loads(run(tmp_path, "analyze", "--format", "json").stdout)
    exposure = doc["ground_truth"]["exposure"]
    assert points(exposure, "shop/web")[("Ingress", "shop/web")]["allowed"] is True
    text = run(tmp_path, "analyze").stdout
    assert "EXPOSED shop/web via Ingress shop/web on 8080/TCP: REACHABLE" in text
    assert "1 of 3 workloads accept ingress from anywhere outside the cluster" in text


MIXED = APP + """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: admin-mixed, namespace: shop}
spec:
  podSelector: {matchLabels: {app: admin}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 7000}]
  - from: [{podSelector: {matchLabels: {app: web}}}, {ipBlock: {cidr: 198.51.100.0/24, except: [198.51.100.8/29]}}]
    ports: [{port: 7001, endPort: 7003}]
  - ports: [{port: 7004, protocol: UDP}]
"""


def test_outside_ingress_comes_from_ip_blocks_and_open_sources_never_from_pod_peers(tmp_path) -> None:
    """Rules whose peers are all pods admit nothing from outside; a rule mixing pods and an ipBlock, and a rule
    with no `from`, do (exposure skips the ports of the first kind only)."""
    result = run(tmp_path, "flows", "--exposure", "-o", "json", text=MIXED)
    assert result.exit_code == 0, result.output
    (outside,) = [w["external_ingress"] for w in json.loads(result.stdout)["workloads"] if w["id"] == "shop/admin"]
    assert outside == [
        {"cidr": "203.0.113.0/24", "except": [], "protocol": "TCP", "ports": [[9000, 9000]],
         "rule": "ingress rule 0 of shop/admin-office"},
        {"cidr": "198.51.100.0/24", "except": ["198.51.100.8/29"], "protocol": "TCP", "ports": [[7001, 7003]],
         "rule": "ingress rule 1 of shop/admin-mixed"},
        {"cidr": "anywhere", "except": [], "protocol": "UDP", "ports": [[7004, 7004]],
         "rule": "ingress rule 2 of shop/admin-mixed"},
    ]
