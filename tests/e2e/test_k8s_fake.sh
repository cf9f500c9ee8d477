#!/usr/bin/env bash
# The fake Kubernetes API server (tests/k8s/fake_apiserver.py) checked with the real kubectl:
# discovery, create (generateName), get with label selectors and paging, watch with events,
# logs (tail, follow), grace-period delete, bearer auth, 410 on an expired resourceVersion.
# If kubectl (a real client) works against the fake, the fake speaks the protocol kubectl
# speaks, and Drover's client tests against it mean something. Then every manifest in k8s/
# (and the kustomize build) and every body kubectl sent are validated strictly against the
# Kubernetes OpenAPI definitions.
set -euo pipefail
SRC=${DROVER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=harness.sh
source "$(dirname "$0")/harness.sh"
command -v python3 >/dev/null || { echo "python3 missing"; exit 1; }
if ! command -v kubectl >/dev/null; then
  # kubectl ships on the C machine image; without it the fidelity check cannot run.
  echo "kubectl not installed"
  { [ "${CI:-}" = true ] || [ "${DROVER_TEST_REQUIRE_DB:-0}" = 1 ]; } && exit 1
  exit 77
fi
python3 -c 'import yaml' || { echo "python3-yaml missing (scripts/lib/common.sh installs it)"; exit 1; }

work=$(mktemp -d)
drover_harness_home "$work/home"
cleanup() {
  if [ -n "${fake:-}" ]; then
    kill "$fake" 2>/dev/null || true
    drover_wait_pid 10 "$fake" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap "cp \"\$work\"/requests.jsonl /tmp/k8s-requests.jsonl; cleanup" EXIT

# A self-signed CA-less server certificate for 127.0.0.1: client-go sends tokens only over TLS.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fake-apiserver \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
python3 "$SRC/tests/k8s/fake_apiserver.py" --port 0 --port-file "$work/port" --token s3cret --record "$work/requests.jsonl" \
  --grace-scale 0.2 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" &
fake=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
url=https://127.0.0.1:$port
c() { curl -s --cacert "$work/cert.pem" "$@"; }
for _ in $(seq 50); do c -f -o /dev/null -H 'Authorization: Bearer s3cret' $url/version && break; sleep 0.1; done

cat >"$work/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "$url", certificate-authority-data: "$(base64 -w0 "$work/cert.pem")"}
users:
- name: drover
  user: {token: s3cret}
contexts:
- name: fake
  context: {cluster: fake, user: drover, namespace: drover}
current-context: fake
KC
export KUBECONFIG=$work/kubeconfig
k() { kubectl --request-timeout=10s "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
ctl() { c -f -X POST -H 'Content-Type: application/json' -d "$1" $url/_control >/dev/null; }

# Discovery and auth.
k version -o json | jq -e '.serverVersion.gitVersion == "v1.34.0-fake"' >/dev/null || fail version
KUBECONFIG=/dev/null kubectl --server $url --certificate-authority "$work/cert.pem" --token wrong get pods -n drover 2>"$work/err" && fail "bad token accepted"
grep -Eq "provide credentials|Unauthorized" "$work/err" || fail "no 401: $(cat "$work/err")"

# Empty list, then a watch running in the background while pods come and go.
[ "$(k get pods -l app.kubernetes.io/name=drover-agent -o json | jq '.items | length')" = 0 ] || fail "not empty"
k get pods -l app.kubernetes.io/name=drover-agent --watch -o json --output-watch-events \
  >"$work/watch.json" 2>"$work/watch.err" &
watcher=$!
sleep 1

# create with generateName from the real agent pod template (three pods, for paging).
for i in 1 2 3; do
  k create -f "$SRC/k8s/agent-pod.yaml" --validate=false -o name >>"$work/names"
done
mapfile -t names <"$work/names"
[ ${#names[@]} = 3 ] || fail "created ${#names[@]}"
pod=${names[0]#pod/}
case $pod in drover-agent-?????) ;; *) fail "generateName not applied: $pod" ;; esac

# get: selectors (equality, set-based, negative) and paging (--chunk-size sends limit/continue).
[ "$(k get pods -l 'app.kubernetes.io/name in (drover-agent,x)' -o name | wc -l)" = 3 ] || fail "set selector"
[ "$(k get pods -l 'app.kubernetes.io/name!=drover-agent' -o name | wc -l)" = 0 ] || fail "!= selector"
[ "$(k get pods --chunk-size=1 -o name | wc -l)" = 3 ] || fail paging
grep -Eq '"query": "continue=[^"&]+&limit=1' "$work/requests.jsonl" || fail "kubectl did not page"
k wait --for=jsonpath='{.status.phase}'=Running "pod/$pod" --timeout=10s >/dev/null || fail "never Running"

# logs: tail and follow (follow ends when the container ends).
for l in one two three; do ctl "{\"action\":\"log\",\"name\":\"$pod\",\"line\":\"$l\"}"; done
[ "$(k logs "$pod" --tail=2 | tr '\n' ' ')" = "two three " ] || fail "tail"
( sleep 1; ctl "{\"action\":\"log\",\"name\":\"$pod\",\"line\":\"four\"}";
  ctl "{\"action\":\"phase\",\"name\":\"$pod\",\"phase\":\"Succeeded\",\"exit_code\":0}" ) &
timeout 15 kubectl logs -f "$pod" -c agent --tail=1 >"$work/follow" || fail "follow did not end"
[ "$(tr '\n' ' ' <"$work/follow")" = "three four " ] || fail "follow got: $(cat "$work/follow")"
grep -q '"query": "container=agent&follow=true&tailLines=1"' "$work/requests.jsonl" || fail "log query"

# delete with a grace period: kubectl waits for the object to go away.
k delete pod "$pod" --grace-period=2 >/dev/null || fail delete
k get pod "$pod" 2>"$work/err" && fail "still there"
grep -q NotFound "$work/err" || fail "no NotFound: $(cat "$work/err")"
k delete pod "${names[1]#pod/}" "${names[2]#pod/}" --grace-period=0 --force >/dev/null 2>&1 || fail "force delete"
sleep 1.5
kill $watcher 2>/dev/null || true
drover_wait_pid 10 $watcher 2>/dev/null || true
for t in ADDED MODIFIED DELETED; do
  jq -se --arg t $t 'map(select(.type == $t)) | length > 0' "$work/watch.json" >/dev/null || fail "watch saw no $t"
done
[ "$(jq -se 'map(select(.type == "DELETED")) | length' "$work/watch.json")" = 3 ] || fail "watch DELETED count"

# An expired resourceVersion is 410 Gone (HTTP), and an ERROR event in stream mode.
ctl '{"action":"compact"}'
code=$(c -o "$work/gone" -w '%{http_code}' -H 'Authorization: Bearer s3cret' \
  "$url/api/v1/namespaces/drover/pods?watch=1&resourceVersion=101")
[ "$code" = 410 ] && jq -e '.reason == "Expired"' "$work/gone" >/dev/null || fail "410 http"
ctl '{"action":"gone_mode","mode":"stream"}'
c --max-time 10 -H 'Authorization: Bearer s3cret' \
  "$url/api/v1/namespaces/drover/pods?watch=1&resourceVersion=101" >"$work/gone2"
jq -e '.type == "ERROR" and .object.code == 410' "$work/gone2" >/dev/null || fail "410 stream"

# Strict schema checks: kubectl's bodies, every manifest, and the kustomize build.
python3 "$SRC/tests/k8s/k8s_validate.py" --bodies "$work/requests.jsonl"
kubectl kustomize "$SRC/k8s" >"$work/kustomized.yaml"
python3 "$SRC/tests/k8s/k8s_validate.py" "$work/kustomized.yaml" \
  $(ls "$SRC"/k8s/*.yaml | grep -v kustomization.yaml)
# The validator must reject what it should (or the checks above prove nothing).
printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":[{"name":"a","image":"b","securityContext":{"runAsNonroot":true}}],"activeDeadlineSeconds":"4h"}}' >"$work/bad.json"
if python3 "$SRC/tests/k8s/k8s_validate.py" "$work/bad.json" >"$work/bad.out"; then fail "validator accepted a bad pod"; fi
grep -q "unknown field 'runAsNonroot'" "$work/bad.out" && grep -q "want integer" "$work/bad.out" || fail "validator output"
# Every pod and pod template under k8s/ meets the namespace's `restricted` Pod Security level
# (k8s/namespace.yaml enforces it; the fake API server does not), and the check refuses a pod
# that does not: the agent pod with the coder container's credential-free isolation undone.
python3 "$SRC/tests/k8s/pss_check.py" "$work/kustomized.yaml" $(ls "$SRC"/k8s/*.yaml | grep -v kustomization.yaml)
python3 - "$SRC/k8s/agent-pod.yaml" "$work/loose-pod.json" <<'PY'
import json, sys, yaml
pod = yaml.safe_load(open(sys.argv[1]))
c = pod["spec"]["containers"][-1]
c["securityContext"].pop("allowPrivilegeEscalation")
c["securityContext"]["capabilities"] = {"add": ["SYS_ADMIN"]}
pod["spec"]["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
json.dump(pod, open(sys.argv[2], "w"))
PY
if python3 "$SRC/tests/k8s/pss_check.py" "$work/loose-pod.json" >"$work/loose.out"; then fail "pss_check accepted a loose pod"; fi
grep -q "allowPrivilegeEscalation must be false" "$work/loose.out" && grep -q "SYS_ADMIN" "$work/loose.out" \
  && grep -q "volume host" "$work/loose.out" || fail "pss_check output: $(cat "$work/loose.out")"
echo "PASS: kubectl against the fake; manifests and bodies valid; pods meet the restricted level"
