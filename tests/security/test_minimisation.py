"""Finding 12: stored no more than analyses need.

Before: `cluster_revisions` kept full manifests including Secret data; inline manifests sent to `/v1/chat`
became a `chat-<hash>` cluster any token holder could list and read.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

SECRET_VALUE = "c3VwZXItc2VjcmV0LXBhc3N3b3Jk"  # base64 of a password
MANIFESTS = f"""apiVersion: v1
kind: Secret
metadata: {{name: db, namespace: shop}}
data:
  password: {SECRET_VALUE}
stringData:
  token: plain-token-value-77
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: cfg, namespace: shop}}
data:
  settings.ini: |
    admin_password = configmap-secret-99
    other = 1
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
      - name: api
        image: api:1
        env:
        - {{name: DB_PASSWORD, value: "env-secret-value-55"}}
        - name: REDIS_ADDR
          value: redis:6379
---
apiVersion: v1
kind: Pod
metadata: {{name: redis, namespace: shop, labels: {{app: redis}}}}
spec: {{containers: [{{name: r, image: redis, ports: [{{containerPort: 6379}}]}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: redis, namespace: shop}}
spec: {{selector: {{app: redis}}, ports: [{{port: 6379}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: bad, namespace: shop}}
spec:
  podSelector: {{}}
  ingress:
  - ports:
    - port: 70000
"""
SECRETS = (SECRET_VALUE, "plain-token-value-77", "configmap-secret-99", "env-secret-value-55")


def _database_bytes(settings) -> bytes:
    """Every byte of the SQLite database, its write-ahead log included."""
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_stored_snapshots_keep_no_secret_configmap_or_env_values(api_server, api_settings):
    base = api_server.base_url
    up = httpx.post(f"{base}/v1/clusters/prod", json={"manifests": MANIFESTS, "namespace": "shop"}, timeout=60)
    assert up.status_code == 201, up.text
    stored = httpx.get(f"{base}/v1/clusters/prod", timeout=30).json()["manifests"]
    for secret in SECRETS:
        assert secret not in stored
    assert "redis:6379" in stored  # an env value naming a Service: dependency inference needs it
    assert stored.count("\n") == MANIFESTS.count("\n")
    raw = _database_bytes(api_settings)
    for secret in SECRETS:
        assert secret.encode() not in raw
    doc = httpx.post(f"{base}/v1/analyze", json={"cluster": "prod", "save": False}, timeout=60).json()
    deps = [(d["from"], d["to"]) for d in doc["ground_truth"]["dependencies"]]
    assert ("shop/api", "shop/redis") in deps
    line = MANIFESTS.splitlines().index("    - port: 70000") + 1
    assert any(i["line"] == line for i in doc["ground_truth"]["issues"]), doc["ground_truth"]["issues"]


def test_inline_chat_manifests_are_neither_listed_nor_readable_and_keep_no_secrets(api_server, api_settings):
    base = api_server.base_url
    r = httpx.post(f"{base}/v1/chat", timeout=60,
                   json={"text": "can shop/api reach shop/redis:6379?", "manifests": MANIFESTS, "namespace": "shop"})
    assert r.status_code == 200, r.text
    assert httpx.get(f"{base}/v1/clusters", timeout=30).json() == []
    raw = _database_bytes(api_settings)
    name = re.search(rb"chat-[0-9a-f]{24}", raw).group(0).decode()
    assert httpx.get(f"{base}/v1/clusters/{name}", timeout=30).status_code == 404
    assert httpx.get(f"{base}/v1/clusters/{name}/revisions", timeout=30).status_code == 404
    assert httpx.post(f"{base}/v1/clusters/{name}", json={"manifests": "{}"}, timeout=30).status_code == 422
    for secret in SECRETS:
        assert secret.encode() not in raw
