#!/usr/bin/env bash
# Review a pull request's NetworkPolicy change with a running `netreason serve`, and post the result.
#
#   NETREASON_URL=https://netreason.internal NETREASON_TOKEN=... ./review-pr.sh
#
# Sends the manifests under MANIFEST_DIR as they are at BASE_REF (base) and in the working tree (head)
# to POST /v1/review, writes netreason-review.json / .md / .sarif, and, when GITHUB_TOKEN,
# GITHUB_REPOSITORY and PR_NUMBER are set, creates or updates one PR comment (found by its marker).
# Exit status: 1 when the change breaks a dependency (or, with FAIL_ON=findings, introduces a finding).
#
# Environment:
#   NETREASON_URL     base URL of the service (required)
#   NETREASON_TOKEN   bearer token (when the service has NETREASON_API_TOKENS set)
#   BASE_REF          git revision of the base (default: origin/main)
#   MANIFEST_DIR      directory of manifests, relative to the repository root (default: k8s)
#   DEPS_FILE         declared dependencies (default: $MANIFEST_DIR/netreason.deps.yaml when present)
#   BASE_CLUSTER      review against a stored snapshot (POST /v1/clusters/NAME) instead of BASE_REF
#   MODEL             model spec for the summary (default: the service's NETREASON_MODEL)
#   FAIL_ON           dependencies (default) | findings | never
set -euo pipefail

: "${NETREASON_URL:?set NETREASON_URL to the netreason service, e.g. http://127.0.0.1:8000}"
BASE_REF="${BASE_REF:-origin/main}"
MANIFEST_DIR="${MANIFEST_DIR:-k8s}"
FAIL_ON="${FAIL_ON:-dependencies}"
OUT="${OUT:-netreason-review}"
if [[ -z "${DEPS_FILE:-}" && -f "$MANIFEST_DIR/netreason.deps.yaml" ]]; then
  DEPS_FILE="$MANIFEST_DIR/netreason.deps.yaml"
fi
export BASE_REF MANIFEST_DIR DEPS_FILE="${DEPS_FILE:-}" BASE_CLUSTER="${BASE_CLUSTER:-}" MODEL="${MODEL:-}"

# The request body: {base: {files|cluster}, head: {files}, deps, model}. Paths stay repository-relative,
# so problems and SARIF results point at the files a reviewer sees.
python3 - > "$OUT.request.json" <<'PY'
import json, os, subprocess
from pathlib import Path

SUFFIXES = (".yaml", ".yml", ".json")
root, ref = os.environ["MANIFEST_DIR"], os.environ["BASE_REF"]
deps_file = os.environ.get("DEPS_FILE") or ""

def is_manifest(path):
    return path.endswith(SUFFIXES) and path != deps_file and not Path(path).name.startswith(".")

def head_files():
    paths = sorted(str(p) for p in Path(root).rglob("*") if p.is_file() and is_manifest(str(p)))
    return [{"path": p, "content": Path(p).read_text(encoding="utf-8")} for p in paths]

def base_files():
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", ref, "--", root],
                            check=True, capture_output=True, text=True).stdout.split()
    show = lambda p: subprocess.run(["git", "show", f"{ref}:{p}"], check=True, capture_output=True, text=True).stdout
    return [{"path": p, "content": show(p)} for p in sorted(listed) if is_manifest(p)]

cluster = os.environ.get("BASE_CLUSTER")
body = {"base": {"cluster": cluster} if cluster else {"files": base_files()}, "head": {"files": head_files()}}
if deps_file:
    body["deps"] = Path(deps_file).read_text(encoding="utf-8")
if os.environ.get("MODEL"):
    body["model"] = os.environ["MODEL"]
print(json.dumps(body))
PY

auth=()
[[ -n "${NETREASON_TOKEN:-}" ]] && auth=(-H "Authorization: Bearer $NETREASON_TOKEN")
status=$(curl -sS -o "$OUT.json" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
  --data-binary "@$OUT.request.json" "${NETREASON_URL%/}/v1/review")
if [[ "$status" != 200 ]]; then
  echo "netreason: POST /v1/review answered HTTP $status:" >&2
  cat "$OUT.json" >&2   # a problem-details document: title, detail, and errors with file/line
  exit 2
fi
jq -r '.comment_markdown' "$OUT.json" > "$OUT.md"
jq '.sarif' "$OUT.json" > "$OUT.sarif"
echo "netreason: $(jq -r '.status' "$OUT.json"); wrote $OUT.md and $OUT.sarif" >&2

# One comment per PR: update the one carrying the marker, else create it.
if [[ -n "${GITHUB_TOKEN:-}" && -n "${GITHUB_REPOSITORY:-}" && -n "${PR_NUMBER:-}" ]]; then
  api="${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY"
  gh=(-sS -H "Authorization: Bearer $GITHUB_TOKEN" -H "Accept: application/vnd.github+json")
  existing=$(curl "${gh[@]}" "$api/issues/$PR_NUMBER/comments?per_page=100" |
             jq -r '[.[] | select(.body | startswith("<!-- netreason-review -->"))][0].id // empty')
  payload=$(jq -n --rawfile body "$OUT.md" '{body: $body}')
  if [[ -n "$existing" ]]; then
    curl "${gh[@]}" -X PATCH "$api/issues/comments/$existing" -d "$payload" > /dev/null
  else
    curl "${gh[@]}" -X POST "$api/issues/$PR_NUMBER/comments" -d "$payload" > /dev/null
  fi
fi

case "$FAIL_ON:$(jq -r '.status' "$OUT.json")" in
  dependencies:breaks-dependencies|findings:breaks-dependencies|findings:introduces-findings) exit 1 ;;
  *) exit 0 ;;
esac
