#!/usr/bin/env python3
"""A fake Kubernetes API server for Drover's tests (Python 3 stdlib only).

It follows the published API (kubernetes.io/docs/reference/using-api/api-concepts/) for what
Drover uses, closely enough that the real kubectl drives it (tests/e2e/test_k8s_fake.sh):
  discovery      GET /version, /api, /api/v1, /apis (plain APIVersions/APIResourceList/
                 APIGroupList; /openapi/* is 404, so use kubectl --validate=false)
  pods, secrets  POST/GET/DELETE in /api/v1/namespaces/{ns}/{pods|secrets}[/{name}]
                 generateName, uid, resourceVersion (one counter), creationTimestamp,
                 labelSelector (=, ==, !=, exists, !exists, in, notin), limit/continue paging
  delete         DeleteOptions {gracePeriodSeconds, preconditions.uid (409 on mismatch),
                 propagationPolicy}; 404 Status when absent; grace > 0: MODIFIED with
                 deletionTimestamp, then DELETED once the (scaled) grace has passed; Secrets
                 owner-referenced to a deleted pod are garbage-collected
  watch          ?watch=1|true: chunked NDJSON {type, object} from resourceVersion, BOOKMARK
                 events when allowWatchBookmarks=true, timeoutSeconds, a bounded history:
                 a resourceVersion older than it gets HTTP 410 (or, in mode "stream", HTTP 200
                 with an ERROR event carrying a 410 Expired Status)
  logs           GET .../pods/{name}/log ?follow, tailLines, container (text/plain, chunked)
  kubelet        a new pod becomes Running after a moment; control actions fail or end it;
                 with --exec CMD it also runs CMD as the pod's container, a local process in a
                 session of its own with the container's env (value, or valueFrom.secretKeyRef
                 read from the Secret's data/stringData) over the fake's own: the process
                 ending makes the pod Succeeded (exit 0) or Failed (exitCode, 128+signal);
                 a delete sends SIGTERM to its process group and SIGKILL when the grace ends
  auth           Authorization: Bearer <token> (401 Status otherwise); HTTPS with --tls-cert
Fault injection and inspection through /_control (no auth):
  POST /_control {"action": "fault", "method": "POST", "path": "/api/v1/...", "status": 429,
                  "retry_after": 1, "count": 1, "reason": "TooManyRequests", "message": "..."}
                 {"action": "token", "token": T}  rotate: only T is accepted from now on
                 {"action": "compact"}            forget the watch history (next watch: 410)
                 {"action": "gone_mode", "mode": "http"|"stream"}
                 {"action": "drop_watches"}       cut every open watch stream mid-way
                 {"action": "phase", "name": P, "phase": "Failed", "reason": R, "exit_code": N}
                 {"action": "log", "name": P, "line": "..."}
                 {"action": "remove", "name": P}  a pod vanishes (node lost), DELETED event
  GET  /_control/requests   every request so far as JSON lines {method, path, query, body}
  GET  /_control/procs      --exec processes: [{pod, agent_id, pid, alive, started}]
The request record is also appended to --record FILE, for k8s_validate.py --bodies.
"""
import argparse
import base64
import json
import os
import shlex
import signal
import subprocess
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Condition()
STATE = {
    "rv": 100,
    "objects": {"pods": {}, "secrets": {}},  # (ns, name) -> object
    "history": [],  # (rv, kind, type, object)
    "oldest_rv": 100,  # watches from an RV older than this are 410
    "gone_mode": "http",
    "faults": [],
    "logs": {},  # (ns, pod) -> [lines]
    "watch_gen": 0,  # bumped by drop_watches
    "requests": [],
    "procs": {},  # (ns, pod) -> {"proc": Popen, "agent_id", "started"}  (--exec)
}
ARGS = None
HISTORY_MAX = 1000


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if details:
        s["details"] = details
    return s


def bump(kind, etype, obj):
    """Record a change; caller holds LOCK."""
    STATE["rv"] += 1
    obj["metadata"]["resourceVersion"] = str(STATE["rv"])
    STATE["history"].append((STATE["rv"], kind, etype, json.loads(json.dumps(obj))))
    if len(STATE["history"]) > HISTORY_MAX:
        STATE["history"].pop(0)
        STATE["oldest_rv"] = STATE["history"][0][0] - 1
    LOCK.notify_all()


def parse_selector(sel):
    reqs = []
    if not sel:
        return reqs
    parts, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for p in parts:
        p = p.strip()
        if " notin " in p:
            k, v = p.split(" notin ", 1)
            reqs.append(("notin", k.strip(), set(x.strip() for x in v.strip("() ").split(","))))
        elif " in " in p:
            k, v = p.split(" in ", 1)
            reqs.append(("in", k.strip(), set(x.strip() for x in v.strip("() ").split(","))))
        elif "!=" in p:
            k, v = p.split("!=", 1)
            reqs.append(("!=", k.strip(), v.strip()))
        elif "==" in p:
            k, v = p.split("==", 1)
            reqs.append(("=", k.strip(), v.strip()))
        elif "=" in p:
            k, v = p.split("=", 1)
            reqs.append(("=", k.strip(), v.strip()))
        elif p.startswith("!"):
            reqs.append(("!exists", p[1:].strip(), None))
        elif p:
            reqs.append(("exists", p, None))
    return reqs


def matches(obj, reqs):
    labels = obj["metadata"].get("labels") or {}
    for op, k, v in reqs:
        if op == "=" and labels.get(k) != v:
            return False
        if op == "!=" and labels.get(k) == v:
            return False
        if op == "exists" and k not in labels:
            return False
        if op == "!exists" and k in labels:
            return False
        if op == "in" and labels.get(k) not in v:
            return False
        if op == "notin" and labels.get(k) in v:
            return False
    return True


def pod_status_running(pod):
    name = pod["spec"]["containers"][0]["name"] if pod["spec"].get("containers") else "agent"
    pod["status"] = {"phase": "Running", "startTime": now_iso(), "conditions": [
        {"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": name, "ready": True, "restartCount": 0,
                               "image": pod["spec"]["containers"][0].get("image", ""),
                               "imageID": "", "state": {"running": {"startedAt": now_iso()}}}]}


def container_env(ns, pod):
    """The first container's environment as the kubelet would set it, or None when a
    secretKeyRef cannot be resolved (CreateContainerConfigError). Caller holds LOCK."""
    env = dict(os.environ)
    for e in pod["spec"]["containers"][0].get("env") or []:
        if "value" in e:
            env[e["name"]] = str(e["value"])
            continue
        ref = ((e.get("valueFrom") or {}).get("secretKeyRef")) or {}
        sec = STATE["objects"]["secrets"].get((ns, ref.get("name")))
        if not sec:
            return None
        if ref.get("key") in (sec.get("stringData") or {}):
            env[e["name"]] = sec["stringData"][ref["key"]]
        elif ref.get("key") in (sec.get("data") or {}):
            env[e["name"]] = base64.b64decode(sec["data"][ref["key"]]).decode()
        else:
            return None
    return env


def kubelet_wait(key, proc):
    """The container ended: the pod's phase follows (restartPolicy Never)."""
    rc = proc.wait()
    code = rc if rc >= 0 else 128 - rc
    with LOCK:
        pod = STATE["objects"]["pods"].get(key)
        if not pod or pod["status"].get("phase") != "Running":
            return
        pod["status"]["phase"] = "Succeeded" if code == 0 else "Failed"
        pod["status"]["containerStatuses"] = [{"name": pod["spec"]["containers"][0]["name"],
            "ready": False, "restartCount": 0, "image": "", "imageID": "",
            "state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}}]
        bump("pods", "MODIFIED", pod)


def kubelet_signal(key, sig):
    """Signal the container's process group (the pod's processes), if it runs."""
    with LOCK:
        p = STATE["procs"].get(key)
    if p and p["proc"].poll() is None:
        try:
            os.killpg(p["proc"].pid, sig)
        except OSError:
            pass


def kubelet_start(key):
    time.sleep(ARGS.start_delay)
    with LOCK:
        pod = STATE["objects"]["pods"].get(key)
        if not pod or pod["status"].get("phase") != "Pending" or "deletionTimestamp" in pod["metadata"]:
            return
        env = container_env(key[0], pod) if ARGS.exec else None
        if ARGS.exec and env is None:
            pod["status"]["containerStatuses"] = [{"name": pod["spec"]["containers"][0]["name"],
                "ready": False, "restartCount": 0, "image": "", "imageID": "",
                "state": {"waiting": {"reason": "CreateContainerConfigError"}}}]
            bump("pods", "MODIFIED", pod)
            return
        pod_status_running(pod)
        bump("pods", "MODIFIED", pod)
        if ARGS.exec:
            logf = open(os.path.join(ARGS.exec_log_dir, key[1] + ".log"), "ab") if ARGS.exec_log_dir \
                else subprocess.DEVNULL
            proc = subprocess.Popen(shlex.split(ARGS.exec), env=env, stdin=subprocess.DEVNULL,
                                    stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
            if logf is not subprocess.DEVNULL:
                logf.close()
            labels = pod["metadata"].get("labels") or {}
            STATE["procs"][key] = {"proc": proc, "agent_id": labels.get("drover.dev/agent-id", ""),
                                   "started": time.time()}
            threading.Thread(target=kubelet_wait, args=(key, proc), daemon=True).start()


def finish_delete(kind, key, uid, delay):
    if delay > 0:
        time.sleep(delay)
    if kind == "pods":
        kubelet_signal(key, signal.SIGKILL)  # the grace is over
    with LOCK:
        obj = STATE["objects"][kind].get(key)
        if not obj or obj["metadata"]["uid"] != uid:
            return
        del STATE["objects"][kind][key]
        bump(kind, "DELETED", obj)
        if kind == "pods":
            # The garbage collector: Secrets owned by this pod go with it.
            for skey, sec in list(STATE["objects"]["secrets"].items()):
                for ref in sec["metadata"].get("ownerReferences") or []:
                    if ref.get("uid") == uid:
                        del STATE["objects"]["secrets"][skey]
                        bump("secrets", "DELETED", sec)
            LOCK.notify_all()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if ARGS.verbose:
            super().log_message(fmt, *a)

    # ---- plumbing -----------------------------------------------------------------------
    def send_json(self, code, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_chunked(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return None, None
        try:
            return json.loads(raw), None
        except ValueError as e:
            return None, str(e)

    def record(self, body):
        u = urlsplit(self.path)
        rec = {"method": self.command, "path": u.path, "query": u.query, "body": body}
        with LOCK:
            STATE["requests"].append(rec)
        if ARGS.record:
            with open(ARGS.record, "a") as f:
                f.write(json.dumps(rec) + "\n")

    def fault(self):
        u = urlsplit(self.path)
        with LOCK:
            for f in STATE["faults"]:
                if f.get("method", self.command) == self.command and u.path.startswith(f.get("path", "")) \
                        and f["count"] > 0:
                    f["count"] -= 1
                    return dict(f)
        return None

    # ---- verbs ----------------------------------------------------------------------------
    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):  # merge-patch only
        self.dispatch("PATCH")

    def dispatch(self, method):
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        body, bad = self.read_body()
        if u.path.startswith("/_control"):
            return self.control(method, u.path, body)
        self.record(body)
        if self.headers.get("Authorization") != "Bearer " + STATE.get("token", ARGS.token):
            return self.send_json(401, status(401, "Unauthorized", "Unauthorized"))
        if bad:
            return self.send_json(400, status(400, "BadRequest", "invalid JSON: " + bad))
        f = self.fault()
        if f:
            if f.get("drop"):
                self.close_connection = True
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"kind\"")
                self.wfile.flush()
                return
            hdr = {"Retry-After": str(f["retry_after"])} if "retry_after" in f else None
            return self.send_json(f["status"], status(f["status"], f.get("reason", "InternalError"),
                                                      f.get("message", "injected fault")), hdr)
        parts = [p for p in u.path.split("/") if p]
        if u.path == "/version":
            return self.send_json(200, {"major": "1", "minor": "34", "gitVersion": "v1.34.0-fake",
                                        "platform": "linux/amd64"})
        if u.path == "/api":
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [
                                            {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
        if u.path == "/apis":
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        if u.path == "/api/v1":
            res = []
            for name, kind, verbs in (("pods", "Pod", ["create", "delete", "get", "list", "watch"]),
                                      ("pods/log", "Pod", ["get"]),
                                      ("secrets", "Secret", ["create", "delete", "get", "list", "watch"])):
                res.append({"name": name, "singularName": "" if "/" in name else kind.lower(),
                            "namespaced": True, "kind": kind, "verbs": verbs,
                            **({"shortNames": ["po"]} if name == "pods" else {})})
            return self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                        "groupVersion": "v1", "resources": res})
        # /api/v1/namespaces/{ns}/{kind}[/{name}[/log]]
        if len(parts) >= 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] in ("pods", "secrets"):
            ns, kind = parts[3], parts[4]
            name = parts[5] if len(parts) > 5 else None
            sub = parts[6] if len(parts) > 6 else None
            if name is None and method == "GET":
                if q.get("watch") in ("1", "true"):
                    return self.watch(ns, kind, q)
                return self.list(ns, kind, q)
            if name is None and method == "POST":
                return self.create(ns, kind, body, q)
            if name and sub == "log" and method == "GET" and kind == "pods":
                return self.logs(ns, name, q)
            if name and sub is None and method == "GET":
                with LOCK:
                    obj = STATE["objects"][kind].get((ns, name))
                if not obj:
                    return self.not_found(kind, name)
                return self.send_json(200, obj)
            if name and sub is None and method == "DELETE":
                return self.delete(ns, kind, name, body)
            if name and sub is None and method == "PATCH":
                return self.patch(ns, kind, name, body)
            return self.send_json(405, status(405, "MethodNotAllowed", "method not allowed"))
        return self.send_json(404, status(404, "NotFound", "the server could not find the requested resource"))

    def not_found(self, kind, name):
        return self.send_json(404, status(404, "NotFound", f'{kind} "{name}" not found',
                                          {"name": name, "kind": kind}))

    def create(self, ns, kind, body, q):
        want = "Pod" if kind == "pods" else "Secret"
        if not isinstance(body, dict) or body.get("kind") != want or body.get("apiVersion") != "v1":
            return self.send_json(400, status(400, "BadRequest", f"expected a v1 {want}"))
        md = body.setdefault("metadata", {})
        if md.get("namespace") not in (None, ns):
            return self.send_json(400, status(400, "BadRequest", "the namespace of the object does not match the namespace on the request"))
        if not md.get("name") and not md.get("generateName"):
            return self.send_json(422, status(422, "Invalid", "name or generateName is required"))
        if kind == "pods" and not (body.get("spec") or {}).get("containers"):
            return self.send_json(422, status(422, "Invalid", "spec.containers: Required value"))
        with LOCK:
            if not md.get("name"):
                md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
            if (ns, md["name"]) in STATE["objects"][kind]:
                return self.send_json(409, status(409, "AlreadyExists", f'{kind} "{md["name"]}" already exists',
                                                  {"name": md["name"], "kind": kind}))
            md["namespace"] = ns
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_iso()
            if kind == "pods":
                body["status"] = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}
                body["spec"].setdefault("terminationGracePeriodSeconds", 30)
                STATE["logs"][(ns, md["name"])] = []
            STATE["objects"][kind][(ns, md["name"])] = body
            bump(kind, "ADDED", body)
            out = json.loads(json.dumps(body))
        if kind == "pods":
            threading.Thread(target=kubelet_start, args=((ns, md["name"]),), daemon=True).start()
        return self.send_json(201, out)

    def patch(self, ns, kind, name, body):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/merge-patch+json":
            return self.send_json(415, status(415, "UnsupportedMediaType",
                                              f"the body of the request was in an unknown format - accepted media types include: application/merge-patch+json"))
        if not isinstance(body, dict):
            return self.send_json(400, status(400, "BadRequest", "a JSON merge patch object is required"))

        def merge(dst, p):
            for k, v in p.items():
                if v is None:
                    dst.pop(k, None)
                elif isinstance(v, dict) and isinstance(dst.get(k), dict):
                    merge(dst[k], v)
                else:
                    dst[k] = v
        with LOCK:
            obj = STATE["objects"][kind].get((ns, name))
            if not obj:
                return self.not_found(kind, name)
            for immutable in ("uid", "name", "namespace", "creationTimestamp"):
                if immutable in (body.get("metadata") or {}):
                    return self.send_json(422, status(422, "Invalid", f"metadata.{immutable}: field is immutable"))
            merge(obj, body)
            bump(kind, "MODIFIED", obj)
            out = json.loads(json.dumps(obj))
        return self.send_json(200, out)

    def list(self, ns, kind, q):
        reqs = parse_selector(q.get("labelSelector"))
        limit = int(q.get("limit") or 0)
        start = q.get("continue") or ""
        with LOCK:
            items = sorted((o for (n, _), o in STATE["objects"][kind].items()
                            if n == ns and matches(o, reqs)), key=lambda o: o["metadata"]["name"])
            rv = str(STATE["rv"])
            if start:
                try:
                    cont = json.loads(base64.urlsafe_b64decode(start.encode()))
                except ValueError:
                    return self.send_json(400, status(400, "BadRequest", "invalid continue token"))
                items = [o for o in items if o["metadata"]["name"] > cont["after"]]
                rv = cont["rv"]
            meta = {"resourceVersion": rv}
            if limit and len(items) > limit:
                items = items[:limit]
                meta["continue"] = base64.urlsafe_b64encode(json.dumps(
                    {"after": items[-1]["metadata"]["name"], "rv": rv}).encode()).decode()
                meta["remainingItemCount"] = 0
            out = {"kind": "PodList" if kind == "pods" else "SecretList", "apiVersion": "v1",
                   "metadata": meta, "items": json.loads(json.dumps(items))}
        return self.send_json(200, out)

    def delete(self, ns, kind, name, body):
        opts = body or {}
        with LOCK:
            obj = STATE["objects"][kind].get((ns, name))
            if not obj:
                return self.not_found(kind, name)
            pre = (opts.get("preconditions") or {}).get("uid")
            if pre and pre != obj["metadata"]["uid"]:
                return self.send_json(409, status(409, "Conflict",
                    f'Precondition failed: UID in precondition: {pre}, UID in object meta: {obj["metadata"]["uid"]}'))
            grace = opts.get("gracePeriodSeconds")
            if grace is None:
                grace = obj.get("spec", {}).get("terminationGracePeriodSeconds", 0) if kind == "pods" else 0
            uid = obj["metadata"]["uid"]
            if kind == "pods" and grace > 0:
                if "deletionTimestamp" not in obj["metadata"]:
                    obj["metadata"]["deletionTimestamp"] = now_iso()
                    obj["metadata"]["deletionGracePeriodSeconds"] = grace
                    bump(kind, "MODIFIED", obj)
                out = json.loads(json.dumps(obj))
            else:
                out = json.loads(json.dumps(obj))
        delay = grace * ARGS.grace_scale if kind == "pods" else 0
        if kind == "pods":
            kubelet_signal((ns, name), signal.SIGTERM)
        if delay > 0:
            threading.Thread(target=finish_delete, args=(kind, (ns, name), uid, delay), daemon=True).start()
        else:
            finish_delete(kind, (ns, name), uid, 0)
        return self.send_json(200 if delay == 0 else 202, out)

    def watch(self, ns, kind, q):
        reqs = parse_selector(q.get("labelSelector"))
        rv = q.get("resourceVersion") or ""
        bookmarks = q.get("allowWatchBookmarks") == "true"
        deadline = time.time() + float(q.get("timeoutSeconds") or 1800)
        with LOCK:
            gen = STATE["watch_gen"]
            if rv and rv != "0" and int(rv) < STATE["oldest_rv"]:
                st = status(410, "Expired", f"too old resource version: {rv} ({STATE['oldest_rv']})")
                if STATE["gone_mode"] == "http":
                    return self.send_json(410, st)
                self.start_chunked("application/json")
                self.chunk(json.dumps({"type": "ERROR", "object": st}) + "\n")
                self.end_chunked()
                return
            if not rv or rv == "0":
                # "Start at most recent": synthetic ADDED for everything that matches.
                pending = [("ADDED", o) for (n, _), o in STATE["objects"][kind].items()
                           if n == ns and matches(o, reqs)]
                last = STATE["rv"]
            else:
                pending, last = [], int(rv)
        self.start_chunked("application/json")
        next_bookmark = time.time() + ARGS.bookmark_interval
        try:
            for etype, o in pending:
                self.chunk(json.dumps({"type": etype, "object": o}) + "\n")
            while time.time() < deadline:
                with LOCK:
                    if STATE["watch_gen"] != gen:
                        self.close_connection = True
                        return  # dropped mid-stream, without the terminating chunk
                    if STATE["oldest_rv"] > last:
                        st = status(410, "Expired", f"too old resource version: {last} ({STATE['oldest_rv']})")
                        events = [("ERROR", st)]
                        last = STATE["rv"]
                    else:
                        events = [(t, o) for (r, k, t, o) in STATE["history"]
                                  if r > last and k == kind and o["metadata"]["namespace"] == ns
                                  and matches(o, reqs)]
                        last = max(last, STATE["rv"])
                    if not events:
                        LOCK.wait(0.2)
                for t, o in events:
                    self.chunk(json.dumps({"type": t, "object": o}) + "\n")
                if bookmarks and time.time() >= next_bookmark:
                    next_bookmark = time.time() + ARGS.bookmark_interval
                    self.chunk(json.dumps({"type": "BOOKMARK", "object": {
                        "kind": "Pod" if kind == "pods" else "Secret", "apiVersion": "v1",
                        "metadata": {"resourceVersion": str(last)}}}) + "\n")
            self.end_chunked()
        except OSError:  # the client went away (BrokenPipe, ConnectionReset, SSL EOF)
            self.close_connection = True

    def logs(self, ns, name, q):
        with LOCK:
            pod = STATE["objects"]["pods"].get((ns, name))
            if not pod:
                return self.not_found("pods", name)
            if q.get("container") and q["container"] not in [c["name"] for c in pod["spec"]["containers"]]:
                return self.send_json(400, status(400, "BadRequest",
                    f"container {q['container']} is not valid for pod {name}"))
            lines = list(STATE["logs"].get((ns, name), []))
        tail = int(q["tailLines"]) if q.get("tailLines") else None
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = len(STATE["logs"].get((ns, name), []))
        try:
            for l in lines:
                self.chunk(l + "\n")
            if q.get("follow") == "true":
                # Until the container ends (phase Succeeded/Failed) or the pod goes away.
                while True:
                    with LOCK:
                        all_lines = STATE["logs"].get((ns, name))
                        pod = STATE["objects"]["pods"].get((ns, name))
                        new = all_lines[sent:] if all_lines is not None else []
                        sent += len(new)
                        done = pod is None or pod["status"].get("phase") in ("Succeeded", "Failed")
                        if not new and not done:
                            LOCK.wait(0.2)
                    for l in new:
                        self.chunk(l + "\n")
                    if done and not new:
                        break
            self.end_chunked()
        except OSError:  # the client went away (BrokenPipe, ConnectionReset, SSL EOF)
            self.close_connection = True

    # ---- control ----------------------------------------------------------------------------
    def control(self, method, path, body):
        if method == "GET" and path == "/_control/procs":
            with LOCK:
                out = [{"pod": k[1], "agent_id": p["agent_id"], "pid": p["proc"].pid,
                        "alive": p["proc"].poll() is None, "started": p["started"]}
                       for k, p in STATE["procs"].items()]
            return self.send_json(200, out)
        if method == "GET" and path == "/_control/requests":
            with LOCK:
                data = "".join(json.dumps(r) + "\n" for r in STATE["requests"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        a = (body or {}).get("action")
        ns = (body or {}).get("namespace", ARGS.namespace)
        with LOCK:
            if a == "fault":
                f = dict(body)
                f.setdefault("count", 1)
                STATE["faults"].append(f)
            elif a == "token":
                STATE["token"] = body["token"]  # rotation: only the new token is accepted
            elif a == "compact":
                STATE["history"].clear()
                STATE["oldest_rv"] = STATE["rv"] + 1
                STATE["rv"] += 1
                LOCK.notify_all()
            elif a == "gone_mode":
                STATE["gone_mode"] = body["mode"]
            elif a == "drop_watches":
                STATE["watch_gen"] += 1
                LOCK.notify_all()
            elif a == "log":
                STATE["logs"].setdefault((ns, body["name"]), []).append(body["line"])
                LOCK.notify_all()
            elif a in ("phase", "remove"):
                pod = STATE["objects"]["pods"].get((ns, body["name"]))
                if not pod:
                    return self.send_json(404, {"error": "no such pod"})
                if a == "remove":
                    uid = pod["metadata"]["uid"]
                else:
                    cs = {"terminated": {"exitCode": body.get("exit_code", 1),
                                         "reason": body.get("reason", "Error")}}
                    if body["phase"] == "Pending":
                        cs = {"waiting": {"reason": body.get("reason", "ContainerCreating")}}
                    pod["status"]["phase"] = body["phase"]
                    pod["status"]["containerStatuses"] = [{"name": pod["spec"]["containers"][0]["name"],
                        "ready": False, "restartCount": 0, "image": "", "imageID": "", "state": cs}]
                    if body.get("pod_reason"):
                        pod["status"]["reason"] = body["pod_reason"]
                    bump("pods", "MODIFIED", pod)
            else:
                return self.send_json(400, {"error": "unknown action"})
        if a == "remove":
            finish_delete("pods", (ns, body["name"]), uid, 0)
        return self.send_json(200, {"ok": True})


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--token", default="fake-token")
    p.add_argument("--namespace", default="drover")
    p.add_argument("--record")
    p.add_argument("--start-delay", type=float, default=0.2)
    p.add_argument("--grace-scale", type=float, default=0.05)
    p.add_argument("--bookmark-interval", type=float, default=1.0)
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--exec", help="run this command as every pod's container (a local process)")
    p.add_argument("--exec-log-dir", help="with --exec: each pod's output in DIR/<pod>.log")
    p.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (and --tls-key)")
    p.add_argument("--tls-key")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    if ARGS.tls_cert:
        # client-go sends bearer tokens only over TLS, as a real apiserver is always HTTPS.
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        # The handshake happens in each handler thread (on first read), never in the accept loop,
        # so a client that stalls mid-handshake cannot block everyone else.
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    if ARGS.port_file:
        with open(ARGS.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        import os
        os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
