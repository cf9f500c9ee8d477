#!/usr/bin/env python3
"""An in-memory fake of the three forge REST APIs droverd's forge backends call.

It follows the published APIs for exactly the calls Drover makes (paths, request bodies,
status codes, error bodies, including the conflict answers):

  Gitea/Forgejo  /api/v1  GET repos/{o}/{r}                       (the Repository, 404 unknown)
                          POST/GET repos/{o}/{r}/branches[/{b}]  (409 exists, 404 old ref)
                          POST/GET repos/{o}/{r}/pulls            (409 open PR exists, 422 head == base)
  GitLab         /api/v4  POST projects/:id/repository/branches?branch=&ref=  (400 for every failure)
                          GET  projects/:id/repository/branches/:branch
                          POST/GET projects/:id/merge_requests    (409 open MR exists)
  GitHub         /        GET repos/{o}/{r}/git/ref/heads/{b}, POST repos/{o}/{r}/git/refs (422 exists)
                          POST/GET repos/{o}/{r}/pulls            (422 "A pull request already exists")
  Issue comments: POST/GET repos/{o}/{r}/issues/{n}/comments (Gitea, GitHub: {"body"}),
                  POST/GET projects/:id/issues/:iid/notes (GitLab)

Every flavour has the repository "acme/widgets" with branch "main". Auth: the token given with
--token, in each forge's header (Gitea "Authorization: token T", GitLab "PRIVATE-TOKEN: T",
GitHub "Authorization: Bearer T" plus a required User-Agent). Request bodies are validated
against the documented required fields. GET /_fake/requests lists what was received (method,
path) so tests can count calls. Any method on /_fake/answer?status=N&body=TEXT[&type=CT]
answers status N with TEXT as the body (Content-Type CT, default text/html): the answers no
forge API documents but proxies and broken forges give (an HTML error page, a 201 without JSON),
for tests of the HTTP layer itself. POST /_fake/preview is a preview-deploy webhook (answers
{"url": "https://preview.test/task-<task>"}). POST /_fake/stall?seconds=N makes every later
create (a POST to a forge API path) wait N seconds before it is handled, as a slow or
overloaded forge does (0 ends it); creates are served concurrently meanwhile.
Listens on 127.0.0.1 at --port (0 = any) and prints PORT=<n>.
"""
import argparse
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

LOCK = threading.Lock()
REQUESTS = []
MAIN_SHA = hashlib.sha1(b"main").hexdigest()


def new_state():
    return {"branches": {"main": MAIN_SHA}, "pulls": [], "comments": []}


def add_comment(repo, number, body, url):
    """An issue comment (Gitea/GitHub) or note (GitLab): 400/422 without a body."""
    c = {"id": len(repo["comments"]) + 1, "issue": number, "body": body, "html_url": url}
    repo["comments"].append(c)
    return c


STATE = {"gitea": {"acme/widgets": new_state()},
         "gitlab": {"acme/widgets": new_state()},
         "github": {"acme/widgets": new_state()}}
TOKEN = ""
STALL = {"seconds": 0.0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return {}
        try:
            v = json.loads(raw)
        except ValueError:
            return None
        return v if isinstance(v, dict) else None

    def handle_any(self, method):
        url = urlsplit(self.path)
        raw_path = url.path
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self.body() if method == "POST" else {}
        with LOCK:
            REQUESTS.append({"method": method, "path": self.path})
        if raw_path == "/_fake/requests":
            with LOCK:
                return self.reply(200, list(REQUESTS))
        if raw_path == "/_fake/answer":
            data = q.get("body", "").encode()
            self.send_response(int(q.get("status", "200")))
            self.send_header("Content-Type", q.get("type", "text/html"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        if raw_path == "/_fake/stall" and method == "POST":
            with LOCK:
                STALL["seconds"] = float(q.get("seconds", "0"))
            return self.reply(200, {"stall_seconds": STALL["seconds"]})
        if body is None:
            return self.reply(400, {"message": "Problems parsing JSON"})
        if raw_path == "/_fake/preview" and method == "POST":
            # A preview-deploy webhook: answers the URL it "deployed" for the task's branch.
            if not isinstance(body.get("task"), int) or "branch" not in body:
                return self.reply(400, {"error": "task and branch are required"})
            with LOCK:
                REQUESTS.append({"method": method, "path": raw_path, "body": body})
            return self.reply(200, {"url": "https://preview.test/task-%d" % body["task"]})
        with LOCK:
            stall = STALL["seconds"] if method == "POST" else 0
        if stall > 0:
            time.sleep(stall)  # outside the lock: other requests go on meanwhile
        with LOCK:
            if raw_path.startswith("/api/v1/"):
                return self.gitea(method, raw_path[len("/api/v1"):], q, body)
            if raw_path.startswith("/api/v4/"):
                return self.gitlab(method, raw_path[len("/api/v4"):], q, body)
            if raw_path.startswith("/repos/"):
                return self.github(method, raw_path, q, body)
        return self.reply(404, {"message": "Not Found"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    # ---- Gitea / Forgejo -------------------------------------------------------------
    def gitea(self, method, path, q, body):
        auth = self.headers.get("Authorization", "")
        if auth not in ("token " + TOKEN, "Bearer " + TOKEN):
            return self.reply(401, {"message": "token is required" if not auth
                                    else "user does not exist [uid: 0, name: ]", "url": ""})
        parts = path.split("/")  # ['', 'repos', o, r, what, ...]
        if len(parts) == 4 and parts[1] == "repos" and method == "GET":
            if parts[2] + "/" + parts[3] not in STATE["gitea"]:
                return self.reply(404, {"errors": [], "message": "The target couldn't be found.",
                                        "url": ""})
            return self.reply(200, {"id": 1, "name": parts[3], "full_name": parts[2] + "/" + parts[3],
                                    "default_branch": "main", "private": True, "empty": False})
        if len(parts) < 5 or parts[1] != "repos":
            return self.reply(404, {"message": "Not Found"})
        repo = STATE["gitea"].get(parts[2] + "/" + parts[3])
        if repo is None:
            return self.reply(404, {"errors": [], "message": "The target couldn't be found.",
                                    "url": ""})
        rest = "/".join(parts[5:])
        if parts[4] == "issues" and len(parts) == 7 and parts[6] == "comments":
            if method == "GET":
                return self.reply(200, [c for c in repo["comments"] if c["issue"] == int(parts[5])])
            if method == "POST":
                if not isinstance(body.get("body"), str) or not body["body"]:
                    return self.reply(422, {"message": "[Body]: Required", "url": ""})
                return self.reply(201, add_comment(repo, int(parts[5]), body["body"],
                                                   "http://gitea.test/c"))
        if parts[4] == "branches" and method == "POST" and not rest:
            name = body.get("new_branch_name")
            old = body.get("old_ref_name") or body.get("old_branch_name") or "main"
            if not isinstance(name, str) or not name:
                return self.reply(422, {"message": "[NewBranchName]: Required", "url": ""})
            if name in repo["branches"]:
                return self.reply(409, {"message": "The branch already exists.", "url": ""})
            if old not in repo["branches"]:
                return self.reply(404, {"message": "The old branch does not exist", "url": ""})
            repo["branches"][name] = repo["branches"][old]
            return self.reply(201, self.gitea_branch(name, repo))
        if parts[4] == "branches" and method == "GET" and rest:
            name = unquote(rest)
            if name not in repo["branches"]:
                return self.reply(404, {"message": "Branch not found", "url": ""})
            return self.reply(200, self.gitea_branch(name, repo))
        if parts[4] == "pulls" and method == "POST" and not rest:
            for f in ("head", "base", "title"):
                if not isinstance(body.get(f), str) or not body[f]:
                    return self.reply(422, {"message": "[%s]: Required" % f.capitalize(),
                                            "url": ""})
            head, base = body["head"], body["base"]
            if head not in repo["branches"] or base not in repo["branches"]:
                return self.reply(404, {"message": "The target couldn't be found.", "url": ""})
            if head == base:
                return self.reply(422, {"message": "Invalid PullRequest: There are no changes "
                                        "between the head and the base", "url": ""})
            for p in repo["pulls"]:
                if p["state"] == "open" and p["head"]["ref"] == head and p["base"]["ref"] == base:
                    return self.reply(409, {"message": "pull request already exists for these "
                                            "targets [id: %d, issue_id: %d, head_repo_id: 1, "
                                            "base_repo_id: 1, head_branch: %s, base_branch: %s]"
                                            % (p["id"], p["id"], head, base), "url": ""})
            n = len(repo["pulls"]) + 1
            p = {"id": n, "number": n, "state": "open", "title": body["title"],
                 "body": body.get("body", ""),
                 "html_url": "http://gitea.test/%s/%s/pulls/%d" % (parts[2], parts[3], n),
                 "head": {"ref": head, "label": head, "sha": repo["branches"][head]},
                 "base": {"ref": base, "label": base, "sha": repo["branches"][base]}}
            repo["pulls"].append(p)
            return self.reply(201, p)
        if parts[4] == "pulls" and method == "GET" and not rest:
            state = q.get("state", "open")
            limit = int(q.get("limit", "30"))
            page = int(q.get("page", "1"))
            items = [p for p in repo["pulls"] if state == "all" or p["state"] == state]
            return self.reply(200, items[(page - 1) * limit: page * limit])
        return self.reply(404, {"message": "Not Found"})

    def gitea_branch(self, name, repo):
        return {"name": name, "commit": {"id": repo["branches"][name], "message": "init"},
                "protected": False}

    # ---- GitLab ----------------------------------------------------------------------
    def gitlab(self, method, path, q, body):
        tok = self.headers.get("PRIVATE-TOKEN") or ""
        auth = self.headers.get("Authorization", "")
        if tok != TOKEN and auth != "Bearer " + TOKEN:
            return self.reply(401, {"message": "401 Unauthorized"})
        parts = path.split("/")  # ['', 'projects', id, ...]
        if len(parts) < 4 or parts[1] != "projects":
            return self.reply(404, {"error": "404 Not Found"})
        pid = unquote(parts[2])
        repo = STATE["gitlab"].get(pid)
        if repo is None or "/" in parts[2]:
            return self.reply(404, {"message": "404 Project Not Found"})
        rest = parts[3:]
        if len(rest) == 3 and rest[0] == "issues" and rest[2] == "notes":
            if method == "GET":
                return self.reply(200, [c for c in repo["comments"] if c["issue"] == int(rest[1])])
            if method == "POST":
                if not isinstance(body.get("body"), str) or not body["body"]:
                    return self.reply(400, {"error": "body is missing"})
                return self.reply(201, add_comment(repo, int(rest[1]), body["body"], None))
        params = dict(q)
        params.update({k: v for k, v in body.items() if isinstance(v, str)})
        if rest[:2] == ["repository", "branches"] and len(rest) == 2 and method == "POST":
            name, ref = params.get("branch"), params.get("ref")
            if not name:
                return self.reply(400, {"error": "branch is missing"})
            if not ref:
                return self.reply(400, {"error": "ref is missing"})
            if name in repo["branches"]:
                return self.reply(400, {"message": "Branch already exists"})
            if ref not in repo["branches"]:
                return self.reply(400, {"message": "Invalid reference name: %s" % ref})
            repo["branches"][name] = repo["branches"][ref]
            return self.reply(201, self.gitlab_branch(pid, name, repo))
        if rest[:2] == ["repository", "branches"] and len(rest) == 3 and method == "GET":
            name = unquote(rest[2])
            if name not in repo["branches"]:
                return self.reply(404, {"message": "404 Branch Not Found"})
            return self.reply(200, self.gitlab_branch(pid, name, repo))
        if rest == ["merge_requests"] and method == "POST":
            for f in ("source_branch", "target_branch", "title"):
                if not params.get(f):
                    return self.reply(400, {"error": "%s is missing" % f})
            src, dst = params["source_branch"], params["target_branch"]
            if src not in repo["branches"] or dst not in repo["branches"]:
                return self.reply(422, {"message": ["Source branch does not exist"]})
            for m in repo["pulls"]:
                if m["state"] == "opened" and m["source_branch"] == src and \
                        m["target_branch"] == dst:
                    return self.reply(409, {"message": ["Another open merge request already "
                                                        "exists for this source branch: !%d"
                                                        % m["iid"]]})
            n = len(repo["pulls"]) + 1
            m = {"id": 1000 + n, "iid": n, "project_id": 1, "title": params["title"],
                 "description": params.get("description", ""), "state": "opened",
                 "source_branch": src, "target_branch": dst,
                 "web_url": "http://gitlab.test/%s/-/merge_requests/%d" % (pid, n)}
            repo["pulls"].append(m)
            return self.reply(201, m)
        if rest == ["merge_requests"] and method == "GET":
            items = [m for m in repo["pulls"]
                     if ("state" not in q or q["state"] == "all" or m["state"] == q["state"])
                     and ("source_branch" not in q or m["source_branch"] == q["source_branch"])
                     and ("target_branch" not in q or m["target_branch"] == q["target_branch"])]
            return self.reply(200, items)
        return self.reply(404, {"error": "404 Not Found"})

    def gitlab_branch(self, pid, name, repo):
        sha = repo["branches"][name]
        return {"name": name, "merged": False, "protected": False, "default": name == "main",
                "commit": {"id": sha, "short_id": sha[:8], "title": "init"},
                "web_url": "http://gitlab.test/%s/-/tree/%s" % (pid, name)}

    # ---- GitHub ----------------------------------------------------------------------
    def github(self, method, path, q, body):
        if not self.headers.get("User-Agent"):
            return self.reply(403, {"message": "Request forbidden by administrative rules. "
                                    "Please make sure your request has a User-Agent header"})
        auth = self.headers.get("Authorization", "")
        if auth not in ("Bearer " + TOKEN, "token " + TOKEN):
            return self.reply(401, {"message": "Bad credentials" if auth else
                                    "Requires authentication",
                                    "documentation_url": "https://docs.github.com/rest"})
        parts = path.split("/")  # ['', 'repos', o, r, ...]
        repo = STATE["github"].get(parts[2] + "/" + parts[3]) if len(parts) > 4 else None
        if repo is None:
            return self.reply(404, {"message": "Not Found"})
        rest = parts[4:]
        if len(rest) == 3 and rest[0] == "issues" and rest[2] == "comments":
            if method == "GET":
                return self.reply(200, [c for c in repo["comments"] if c["issue"] == int(rest[1])])
            if method == "POST":
                if not isinstance(body.get("body"), str) or not body["body"]:
                    return self.reply(422, {"message": "Validation Failed", "errors": [
                        {"resource": "IssueComment", "field": "body", "code": "missing_field"}]})
                return self.reply(201, add_comment(repo, int(rest[1]), body["body"],
                                                   "https://github.test/c"))
        if rest[:3] == ["git", "ref", "heads"] and method == "GET":
            name = "/".join(rest[3:])
            if name not in repo["branches"]:
                return self.reply(404, {"message": "Not Found"})
            return self.reply(200, {"ref": "refs/heads/" + name, "node_id": "x",
                                    "object": {"sha": repo["branches"][name], "type": "commit"}})
        if rest == ["git", "refs"] and method == "POST":
            ref, sha = body.get("ref"), body.get("sha")
            if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2:
                return self.reply(422, {"message": "Reference name is invalid"})
            if not isinstance(sha, str) or sha not in repo["branches"].values():
                return self.reply(422, {"message": "Object does not exist"})
            name = ref[len("refs/heads/"):]
            if name in repo["branches"]:
                return self.reply(422, {"message": "Reference already exists"})
            repo["branches"][name] = sha
            return self.reply(201, {"ref": ref, "object": {"sha": sha, "type": "commit"}})
        owner = parts[2]
        if rest == ["pulls"] and method == "POST":
            for f in ("title", "head", "base"):
                if not isinstance(body.get(f), str) or not body[f]:
                    return self.reply(422, {"message": "Validation Failed", "errors": [
                        {"resource": "PullRequest", "field": f, "code": "missing_field"}]})
            head, base = body["head"], body["base"]
            if head not in repo["branches"] or base not in repo["branches"]:
                return self.reply(422, {"message": "Validation Failed", "errors": [
                    {"resource": "PullRequest", "field": "head", "code": "invalid"}]})
            for p in repo["pulls"]:
                if p["state"] == "open" and p["head"]["ref"] == head and p["base"]["ref"] == base:
                    return self.reply(422, {"message": "Validation Failed", "errors": [
                        {"resource": "PullRequest", "code": "custom",
                         "message": "A pull request already exists for %s:%s." % (owner, head)}]})
            n = len(repo["pulls"]) + 1
            p = {"number": n, "state": "open", "title": body["title"], "body": body.get("body"),
                 "html_url": "https://github.test/%s/%s/pull/%d" % (parts[2], parts[3], n),
                 "head": {"ref": head, "label": owner + ":" + head,
                          "sha": repo["branches"][head]},
                 "base": {"ref": base, "label": owner + ":" + base}}
            repo["pulls"].append(p)
            return self.reply(201, p)
        if rest == ["pulls"] and method == "GET":
            items = [p for p in repo["pulls"]
                     if (q.get("state", "open") == "all" or p["state"] == q.get("state", "open"))
                     and ("head" not in q or p["head"]["label"] == q["head"])
                     and ("base" not in q or p["base"]["ref"] == q["base"])]
            return self.reply(200, items)
        return self.reply(404, {"message": "Not Found"})


def main():
    global TOKEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", required=True)
    a = ap.parse_args()
    TOKEN = a.token
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    print("PORT=%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
