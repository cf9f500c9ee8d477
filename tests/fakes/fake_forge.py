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
  Issue comments: POST/GET repos/{o}/{r}/issues/{n}/comments (Gitea, GitHub: {"body"}; a
                  pull request is an issue there), POST/GET projects/:id/issues/:iid/notes and
                  POST/GET projects/:id/merge_requests/:iid/notes (GitLab)
  One pull request: GET/PATCH repos/{o}/{r}/pulls/{n} (Gitea EditPullRequestOption answers 201,
                  GitHub 200; {"state": "open"|"closed"}), GET/PUT projects/:id/merge_requests/:iid
                  (GitLab {"state_event": "close"|"reopen"}, 200).
  Team options:   Gitea CreatePullRequestOption "labels" (label ids of GET repos/{o}/{r}/labels;
                  an unknown id is 422), "assignees" and "reviewers" (usernames; an unknown user
                  is 422 "user does not exist"); GitHub POST repos/{o}/{r}/issues/{n}/labels
                  {"labels"} (200, the issue's labels; a new name creates the label), POST
                  repos/{o}/{r}/pulls/{n}/requested_reviewers {"reviewers"} (201; 422 "Reviews
                  may only be requested from collaborators." for a stranger), POST
                  repos/{o}/{r}/issues/{n}/assignees {"assignees"} (201; strangers silently
                  left out); GitLab's create keeps labels (comma-separated), assignee_ids,
                  reviewer_ids, squash and remove_source_branch; GitLab GET users?username=
                  (an array of the one user of that name, any case, or []). The pull requests keep what was
                  set in each forge's shape (labels, assignees, requested_reviewers /
                  reviewers). Known users: alice, bob, carol, dana (GitLab ids 1-4). Repository
                  labels (Gitea): drover (1), bot (2), urgent (3); the organisation "acme"'s
                  labels (GET orgs/{org}/labels; 404 for an owner that is a user): org-wide
                  (101), which acme's pull requests take too.
  The repository: GET repos/{o}/{r} (Gitea, GitHub), GET projects/:id (GitLab).
  Webhooks:       GET repos/{o}/{r}/hooks?page=&limit= (Gitea: [Hook], limit at most 50),
                  GET repos/{o}/{r}/hooks?page=&per_page= (GitHub: [Webhook], at most 100),
                  GET projects/:id/hooks?page=&per_page= (GitLab: [ProjectHook], at most 100).

Webhooks are registered by tests: POST /_fake/hooks {"forge": "gitea"|"github"|"gitlab",
"repo": "owner/repo", "hooks": [...]} replaces that repository's hooks (creating the repository
with branch "main" when it is new). Each hook is given in the forge's own shape and completed
with the fields that forge's API returns by default (an id, timestamps; Gitea type "gitea",
branch_filter "*", active true; GitHub active true, config content_type "json", insecure_ssl
"0"; GitLab alert_status "executable", every *_events false unless given). With
FAKE_FORGE_READER_TOKEN in the environment, that token is accepted like --token for reads but
is not a repository admin: listing hooks answers what each forge answers such a token (Gitea
403, GitHub 403 "Resource not accessible by personal access token", GitLab 403).
  Review comments (what a review webhook leaves out):
    Gitea/Forgejo GET repos/{o}/{r}/pulls/{n}/reviews            ([PullReview])
                  GET repos/{o}/{r}/pulls/{n}/reviews/{id}/comments ([PullReviewComment]:
                      path, diff_hunk, position = new-file line, original_position)
    GitHub        GET repos/{o}/{r}/pulls/{n}/reviews/{id}/comments (path, line, original_line,
                      position, diff_hunk, user, html_url)
    GitLab        GET projects/:id/merge_requests/:iid/discussions ([{id, notes: [{id, type
                      "DiffNote", body, author, position {new_path, new_line, old_path,
                      old_line}, resolvable, resolved}]}])
  These lists, the webhook lists above and the label lists answer one page (GitHub per_page,
  default 30, at most 100; Gitea limit, 30, at most 50; GitLab per_page, 20, at most 100) with
  the forge's pagination headers: GitHub Link
  (rel next/prev/first/last, only when there are several pages), Gitea Link and X-Total-Count,
  GitLab Link and X-Page/X-Per-Page/X-Next-Page/X-Prev-Page/X-Total/X-Total-Pages. Gitea's
  review comments list has no pages in its API: it is answered whole. POST /_fake/pages?max=N
  makes every such page at most N long (0 ends it), so a test needs few comments for many pages.
  A test registers a review with POST /_fake/review {"forge", "repo" (default acme/widgets),
  "number", "id", "user", "state" (REQUEST_CHANGES), "body", "comments": [{"path", "line",
  "body", "user"?, "resolved"?}], "fail"?: N}; with "fail" the comments call (GitLab: the
  discussions call) answers N with the forge's error body instead. A pull request without
  registered reviews and unknown to the fake is 404.

Every flavour has the repository "acme/widgets" with branch "main". Auth: the token given with
--token, in each forge's header (Gitea "Authorization: token T", GitLab "PRIVATE-TOKEN: T",
GitHub "Authorization: Bearer T" plus a required User-Agent). Request bodies are validated
against the documented required fields. GET /_fake/requests lists what was received (method,
path) so tests can count calls. POST /_fake/fail?method=M&status=N makes every later
M request to a forge API path answer N with the forge's error body (status=0 ends it). Any
method on /_fake/answer?status=N&body=TEXT[&type=CT]
answers status N with TEXT as the body (Content-Type CT, default text/html): the answers no
forge API documents but proxies and broken forges give (an HTML error page, a 201 without JSON),
for tests of the HTTP layer itself. POST /_fake/preview is a preview-deploy webhook (answers
{"url": "https://preview.test/task-<task>"}). POST /_fake/stall?seconds=N makes every later
create (a POST to a forge API path) wait N seconds before it is handled, as a slow or
overloaded forge does (0 ends it); creates are served concurrently meanwhile.
GitHub Apps: with FAKE_FORGE_APP_ID, FAKE_FORGE_APP_PUBKEY (a PEM public key file) and
FAKE_FORGE_APP_INSTALLATION in the environment, POST /app/installations/{id}/access_tokens
follows GitHub's published API: the JWT (Authorization: Bearer) must be RS256-signed by that
key (checked with the openssl CLI), with iss the App id, iat not in the future (60 s leeway) and
exp in the future at most 10 minutes after iat (401 otherwise, GitHub's message); an unknown
installation is 404; the answer is 201 {"token": "ghs_...", "expires_at", "permissions",
"repository_selection"} and the token is accepted by the GitHub routes until it expires (an
hour; FAKE_FORGE_APP_TTL seconds when set). GET /_fake/app_tokens lists the tokens minted.
Listens on 127.0.0.1 at --port (0 = any) and prints PORT=<n>.
"""
import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

LOCK = threading.Lock()
REQUESTS = []
MAIN_SHA = hashlib.sha1(b"main").hexdigest()


def new_state():
    return {"branches": {"main": MAIN_SHA}, "pulls": [], "comments": [], "hooks": [],
            "reviews": {}, "labels": [{"id": 1, "name": "drover", "color": "00aabb"},
                                      {"id": 2, "name": "bot", "color": "cccccc"},
                                      {"id": 3, "name": "urgent", "color": "ee0000"}]}


USERS = {"alice": 1, "bob": 2, "carol": 3, "dana": 4}
# Gitea organisations (a repository owner not listed is a user) and their labels.
ORG_LABELS = {"acme": [{"id": 101, "name": "org-wide", "exclusive": False, "is_archived": False,
                        "color": "00ff00", "description": "", "url": "http://gitea.test/acme"}]}
FAIL = {"method": "", "status": 0}
PAGES = {"max": 0}  # POST /_fake/pages?max=N: no page longer than N (0: each forge's own caps)


def gitea_user(login):
    return {"id": USERS[login], "login": login, "username": login, "full_name": login}


def gh_user(login):
    return {"login": login, "id": USERS.get(login, 99), "type": "User"}


def gl_user(uid):
    login = [k for k, v in USERS.items() if v == uid]
    name = login[0] if login else "user%d" % uid
    return {"id": uid, "username": name, "name": name, "state": "active"}


STAMP = "2026-01-01T00:00:00Z"
GITLAB_EVENTS = ("push_events", "tag_push_events", "issues_events", "confidential_issues_events",
                 "note_events", "confidential_note_events", "merge_requests_events",
                 "job_events", "pipeline_events", "wiki_page_events", "deployment_events",
                 "releases_events", "feature_flag_events", "emoji_events",
                 "resource_access_token_events", "member_events", "project_events")


def complete_hook(forge, n, h):
    """Hook `h` as the forge's list returns it: the forge's default fields filled in."""
    h = json.loads(json.dumps(h))
    if forge == "gitea":
        out = {"id": n, "type": "gitea", "branch_filter": "*", "events": [], "active": True,
               "authorization_header": "", "updated_at": STAMP, "created_at": STAMP}
        out.update(h)
        out["config"] = dict({"content_type": "json", "http_method": "post"}, **h.get("config", {}))
        return out
    if forge == "github":
        out = {"type": "Repository", "id": n, "name": "web", "active": True, "events": ["push"],
               "updated_at": STAMP, "created_at": STAMP,
               "url": "https://api.github.test/repos/hooks/%d" % n,
               "test_url": "https://api.github.test/repos/hooks/%d/test" % n,
               "ping_url": "https://api.github.test/repos/hooks/%d/pings" % n,
               "deliveries_url": "https://api.github.test/repos/hooks/%d/deliveries" % n,
               "last_response": {"code": None, "status": "unused", "message": None}}
        out.update(h)
        out["config"] = dict({"content_type": "json", "insecure_ssl": "0"}, **h.get("config", {}))
        return out
    out = {"id": n, "project_id": 1, "created_at": STAMP, "push_events_branch_filter": "",
           "enable_ssl_verification": True, "alert_status": "executable", "disabled_until": None}
    out.update({k: False for k in GITLAB_EVENTS})
    out["push_events"] = True
    out.update(h)
    return out


NEXT_ID = {"n": 5000}


def next_id():
    NEXT_ID["n"] += 1
    return NEXT_ID["n"]


HUNK = "@@ -1,3 +1,4 @@\n line one\n+line two"


def register_review(spec):
    """POST /_fake/review: a submitted review with inline comments, kept in each forge's shape."""
    forge, repo_name = spec.get("forge"), spec.get("repo", "acme/widgets")
    repo = STATE.get(forge, {}).get(repo_name)
    if repo is None or not isinstance(spec.get("number"), int):
        return None
    n, rid = spec["number"], spec.get("id") or next_id()
    user = spec.get("user", "reviewer")
    owner, name = repo_name.split("/", 1)
    rev = {"id": rid, "state": spec.get("state", "REQUEST_CHANGES"), "body": spec.get("body", ""),
           "user": user, "fail": spec.get("fail"), "comments": []}
    for c in spec.get("comments", []):
        cid, who, line = next_id(), c.get("user", user), c.get("line")
        if forge == "gitea":
            obj = {"id": cid, "body": c["body"], "user": {"id": 2, "login": who, "username": who},
                   "pull_request_review_id": rid, "created_at": "2026-01-01T00:00:00Z",
                   "updated_at": "2026-01-01T00:00:00Z", "path": c["path"],
                   "commit_id": MAIN_SHA, "original_commit_id": MAIN_SHA, "diff_hunk": HUNK,
                   "position": line or 0, "original_position": line or 0,
                   "html_url": "http://gitea.test/%s/pulls/%d/files#issuecomment-%d"
                               % (repo_name, n, cid),
                   "pull_request_url": "http://gitea.test/%s/pulls/%d" % (repo_name, n)}
        elif forge == "github":
            obj = {"url": "https://api.github.test/repos/%s/pulls/comments/%d" % (repo_name, cid),
                   "pull_request_review_id": rid, "id": cid, "node_id": "PRRC_%d" % cid,
                   "diff_hunk": HUNK, "path": c["path"], "position": 2 if line else None,
                   "original_position": 2, "commit_id": MAIN_SHA, "original_commit_id": MAIN_SHA,
                   "in_reply_to_id": None, "user": {"login": who, "id": 1, "type": "User"},
                   "body": c["body"], "created_at": "2026-01-01T00:00:00Z",
                   "updated_at": "2026-01-01T00:00:00Z",
                   "html_url": "https://github.test/%s/pull/%d#discussion_r%d" % (repo_name, n, cid),
                   "pull_request_url": "https://api.github.test/repos/%s/pulls/%d" % (repo_name, n),
                   "author_association": "OWNER", "start_line": None, "original_start_line": None,
                   "start_side": None, "line": line, "original_line": line or 1,
                   "side": "RIGHT", "subject_type": "line"}
        else:
            obj = {"id": "%040x" % cid, "individual_note": False, "notes": [{
                "id": cid, "type": "DiffNote", "body": c["body"], "attachment": None,
                "author": {"id": 1, "username": who, "name": who, "state": "active"},
                "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
                "system": False, "noteable_id": 1000 + n, "noteable_type": "MergeRequest",
                "noteable_iid": n, "resolvable": True, "resolved": bool(c.get("resolved")),
                "resolved_by": None, "commit_id": None,
                "position": {"base_sha": MAIN_SHA, "start_sha": MAIN_SHA, "head_sha": MAIN_SHA,
                             "old_path": c["path"], "new_path": c["path"],
                             "position_type": "text", "old_line": None, "new_line": line}}]}
        rev["comments"].append(obj)
    repo["reviews"].setdefault(n, []).append(rev)
    return {"forge": forge, "number": n, "id": rid, "comments": len(rev["comments"])}


def add_comment(repo, number, body, url, mr=False):
    """An issue comment (Gitea/GitHub) or note (GitLab; `mr`: on a merge request)."""
    c = {"id": len(repo["comments"]) + 1, "issue": number, "body": body, "html_url": url}
    if mr:
        c["noteable_type"] = "MergeRequest"
    repo["comments"].append(c)
    return c


STATE = {"gitea": {"acme/widgets": new_state()},
         "gitlab": {"acme/widgets": new_state()},
         "github": {"acme/widgets": new_state()}}
TOKEN = ""
READER = os.environ.get("FAKE_FORGE_READER_TOKEN", "")
STALL = {"seconds": 0.0}
APP_TOKENS = {}  # token -> expiry (epoch seconds)


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def app_jwt_problem(auth):
    """None when `auth` carries a JWT GitHub would accept for the configured App, else why not."""
    if not auth.startswith("Bearer "):
        return "A JSON web token could not be decoded"
    parts = auth[7:].split(".")
    if len(parts) != 3:
        return "A JSON web token could not be decoded"
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        sig = b64url_decode(parts[2])
    except ValueError:
        return "A JSON web token could not be decoded"
    if header.get("alg") != "RS256":
        return "'alg' must be RS256"
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "in"), "w") as f:
            f.write(parts[0] + "." + parts[1])
        with open(os.path.join(d, "sig"), "wb") as f:
            f.write(sig)
        ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", os.environ["FAKE_FORGE_APP_PUBKEY"],
                             "-signature", os.path.join(d, "sig"), os.path.join(d, "in")],
                            capture_output=True).returncode == 0
    if not ok:
        return "A JSON web token could not be decoded"
    now = time.time()
    iat, exp = claims.get("iat"), claims.get("exp")
    if str(claims.get("iss")) != os.environ.get("FAKE_FORGE_APP_ID"):
        return "'Issuer' claim ('iss') must be an Integer"
    if not isinstance(iat, int) or not isinstance(exp, int):
        return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
    if iat > now + 60:
        return "'Issued at' claim ('iat') must be an Integer representing a time in the past"
    if exp <= now or exp - iat > 600:
        return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def reply(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def paged(self, forge, items, q, size_param, default, cap):
        """200 with one page of `items` and the pagination headers `forge` publishes: GitHub a
        Link header (next, last, first, prev) when there is more than one page; Gitea Link and
        X-Total-Count; GitLab Link plus X-Page, X-Per-Page, X-Next-Page ("" on the last page),
        X-Prev-Page, X-Total, X-Total-Pages. POST /_fake/pages?max=N caps every page at N."""
        try:
            page = max(1, int(q.get("page", "1")))
            size = min(cap, max(1, int(q.get(size_param, str(default)))))
        except ValueError:
            page, size = 1, default
        if PAGES["max"]:
            size = min(size, PAGES["max"])
        last = max(1, (len(items) + size - 1) // size)
        url = urlsplit(self.path)

        def link(n, rel):
            params = [(k, v) for k, v in parse_qsl(url.query) if k != "page"] + [("page", str(n))]
            return '<http://%s%s?%s>; rel="%s"' % (self.headers.get("Host", "127.0.0.1"), url.path,
                                                   urlencode(params), rel)
        rels = ([link(page + 1, "next")] if page < last else []) + \
               ([link(page - 1, "prev")] if page > 1 else []) + [link(1, "first"), link(last, "last")]
        hdrs = {}
        if forge != "github" or last > 1:
            hdrs["Link"] = ", ".join(rels)
        if forge == "gitea":
            hdrs["X-Total-Count"] = str(len(items))
        if forge == "gitlab":
            hdrs.update({"X-Page": str(page), "X-Per-Page": str(size),
                         "X-Next-Page": str(page + 1) if page < last else "",
                         "X-Prev-Page": str(page - 1) if page > 1 else "",
                         "X-Total": str(len(items)), "X-Total-Pages": str(last)})
        return self.reply(200, items[(page - 1) * size: page * size], hdrs)

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
        body = self.body() if method in ("POST", "PATCH", "PUT") else {}
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
        if raw_path == "/_fake/app_tokens":
            with LOCK:
                return self.reply(200, sorted(APP_TOKENS))
        parts = raw_path.strip("/").split("/")
        if (method == "POST" and len(parts) == 4 and parts[0] == "app" and parts[1] == "installations"
                and parts[3] == "access_tokens" and os.environ.get("FAKE_FORGE_APP_PUBKEY")):
            why = app_jwt_problem(self.headers.get("Authorization", ""))
            if why:
                return self.reply(401, {"message": why,
                                        "documentation_url": "https://docs.github.com/rest"})
            if parts[2] != os.environ.get("FAKE_FORGE_APP_INSTALLATION"):
                return self.reply(404, {"message": "Not Found",
                                        "documentation_url": "https://docs.github.com/rest"})
            if body is None or not isinstance(body.get("repositories", []), list):
                return self.reply(422, {"message": "Invalid request."})
            tok = "ghs_" + secrets.token_hex(18)
            ttl = int(os.environ.get("FAKE_FORGE_APP_TTL", "3600"))
            with LOCK:
                APP_TOKENS[tok] = time.time() + ttl
            exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ttl))
            return self.reply(201, {"token": tok, "expires_at": exp,
                                    "permissions": {"contents": "write", "pull_requests": "write"},
                                    "repository_selection": "selected"})
        if raw_path == "/_fake/review" and method == "POST":
            with LOCK:
                r = register_review(body or {})
            return self.reply(201, r) if r else self.reply(400, {"error": "forge, number needed"})
        if raw_path == "/_fake/fail" and method == "POST":
            with LOCK:
                FAIL["method"], FAIL["status"] = q.get("method", ""), int(q.get("status", "0"))
            return self.reply(200, dict(FAIL))
        if raw_path == "/_fake/pages" and method == "POST":
            with LOCK:
                PAGES["max"] = int(q.get("max", "0"))
            return self.reply(200, dict(PAGES))
        if raw_path == "/_fake/stall" and method == "POST":
            with LOCK:
                STALL["seconds"] = float(q.get("seconds", "0"))
            return self.reply(200, {"stall_seconds": STALL["seconds"]})
        if body is None:
            return self.reply(400, {"message": "Problems parsing JSON"})
        if raw_path == "/_fake/hooks" and method == "POST":
            forge, name, hooks = body.get("forge"), body.get("repo"), body.get("hooks")
            if forge not in STATE or not isinstance(name, str) or not isinstance(hooks, list):
                return self.reply(400, {"error": "forge, repo and hooks are required"})
            with LOCK:
                repo = STATE[forge].setdefault(name, new_state())
                repo["hooks"] = [complete_hook(forge, i + 1, h) for i, h in enumerate(hooks)]
                return self.reply(200, repo["hooks"])
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
            failing = FAIL["status"] if FAIL["method"] == method else 0
        if failing and (raw_path.startswith("/api/v") or raw_path.startswith("/repos/")):
            # A broken forge: each answers 5xx with its own error body.
            if raw_path.startswith("/api/v4/"):
                return self.reply(failing, {"message": "500 Internal Server Error"})
            if raw_path.startswith("/api/v1/"):
                return self.reply(failing, {"message": "internal server error", "url": ""})
            return self.reply(failing, {"message": "Server Error"})
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

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_PUT(self):
        self.handle_any("PUT")

    # ---- Gitea / Forgejo -------------------------------------------------------------
    def gitea(self, method, path, q, body):
        auth = self.headers.get("Authorization", "")
        reader = READER and auth in ("token " + READER, "Bearer " + READER)
        if auth not in ("token " + TOKEN, "Bearer " + TOKEN) and not reader:
            return self.reply(401, {"message": "token is required" if not auth
                                    else "user does not exist [uid: 0, name: ]", "url": ""})
        parts = path.split("/")  # ['', 'repos', o, r, what, ...]
        if len(parts) == 4 and parts[1] == "orgs" and parts[3] == "labels" and method == "GET":
            # orgListLabels; GetOrgByName answers 404 for a name that is a user, not an org.
            if parts[2] not in ORG_LABELS:
                return self.reply(404, {"errors": [], "message": "The target couldn't be found.",
                                        "url": ""})
            return self.paged("gitea", ORG_LABELS[parts[2]], q, "limit", 30, 50)
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
        if parts[4] == "hooks" and not rest and method == "GET":
            if reader:  # routers/api/v1: the hooks routes require a repository admin
                return self.reply(403, {"message": "user should be an owner or a collaborator "
                                        "with admin write of a repository", "url": ""})
            return self.paged("gitea", repo["hooks"], q, "limit", 30, 50)
        if parts[4] == "pulls" and len(parts) >= 7 and parts[6] == "reviews" and method == "GET":
            n = int(parts[5])
            revs = repo["reviews"].get(n)
            if revs is None and not any(p["number"] == n for p in repo["pulls"]):
                return self.reply(404, {"errors": [], "message": "The target couldn't be found.",
                                        "url": ""})
            revs = revs or []
            if len(parts) == 7:  # ListPullReviews: page and limit (default 30, at most 50)
                return self.paged("gitea", [{
                    "id": r["id"], "user": {"id": 2, "login": r["user"], "username": r["user"]},
                    "team": None, "state": r["state"], "body": r["body"], "commit_id": MAIN_SHA,
                    "stale": False, "official": True, "dismissed": False,
                    "comments_count": len(r["comments"]), "submitted_at": "2026-01-01T00:00:00Z",
                    "html_url": "http://gitea.test/%s/%s/pulls/%d#issuecomment-%d"
                                % (parts[2], parts[3], n, r["id"]),
                    "pull_request_url": "http://gitea.test/%s/%s/pulls/%d" % (parts[2], parts[3], n)}
                    for r in revs], q, "limit", 30, 50)
            if len(parts) == 9 and parts[8] == "comments":
                for r in revs:
                    if str(r["id"]) == parts[7]:
                        if r["fail"]:
                            return self.reply(r["fail"], {"message": "internal server error",
                                                          "url": ""})
                        return self.reply(200, r["comments"])
                return self.reply(404, {"errors": [], "message": "The target couldn't be found.",
                                        "url": ""})
        if parts[4] == "labels" and not rest and method == "GET":
            return self.paged("gitea", repo["labels"], q, "limit", 30, 50)
        if parts[4] == "pulls" and len(parts) == 6 and method in ("GET", "PATCH"):
            p = next((p for p in repo["pulls"] if str(p["number"]) == parts[5]), None)
            if p is None:
                return self.reply(404, {"errors": [], "message": "The target couldn't be found.",
                                        "url": ""})
            if method == "PATCH":  # EditPullRequestOption
                if body.get("state") not in (None, "open", "closed"):
                    return self.reply(422, {"message": "invalid state", "url": ""})
                if body.get("state"):
                    p["state"] = body["state"]
                return self.reply(201, p)
            return self.reply(200, p)
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
            labels, people = [], {}
            for lid in body.get("labels") or []:
                # The repository's labels, and its organisation's when the owner is one.
                lab = next((x for x in repo["labels"] + ORG_LABELS.get(parts[2], [])
                            if x["id"] == lid), None)
                if not isinstance(lid, int) or lab is None:
                    return self.reply(422, {"message": "label does not exist [id: %s]" % lid,
                                            "url": ""})
                labels.append(lab)
            for f in ("assignees", "reviewers"):
                for who in body.get(f) or []:
                    if who not in USERS:
                        return self.reply(422, {"message": "user does not exist [uid: 0, name: "
                                                "%s]" % who, "url": ""})
                people[f] = [gitea_user(w) for w in body.get(f) or []]
            n = len(repo["pulls"]) + 1
            p = {"id": n, "number": n, "state": "open", "title": body["title"],
                 "body": body.get("body", ""), "labels": labels,
                 "assignees": people["assignees"] or None,
                 "assignee": people["assignees"][0] if people["assignees"] else None,
                 "requested_reviewers": people["reviewers"],
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
        reader = READER and (tok == READER or auth == "Bearer " + READER)
        if tok != TOKEN and auth != "Bearer " + TOKEN and not reader:
            return self.reply(401, {"message": "401 Unauthorized"})
        parts = path.split("/")  # ['', 'projects', id, ...]
        if parts[1:] == ["users"] and method == "GET":
            # GET /users?username=: an array of the one user of that name (any case), or [].
            want = (q.get("username") or "").lower()
            return self.reply(200, [dict(gl_user(uid), locked=False, avatar_url=None,
                                         web_url="http://gitlab.test/" + login)
                                    for login, uid in USERS.items() if login == want])
        if len(parts) < 3 or parts[1] != "projects":
            return self.reply(404, {"error": "404 Not Found"})
        pid = unquote(parts[2])
        repo = STATE["gitlab"].get(pid)
        if repo is None or "/" in parts[2]:
            return self.reply(404, {"message": "404 Project Not Found"})
        rest = parts[3:]
        if not rest and method == "GET":
            return self.reply(200, {"id": 1, "path_with_namespace": pid,
                                    "default_branch": "main", "visibility": "private",
                                    "web_url": "http://gitlab.test/" + pid})
        if rest == ["hooks"] and method == "GET":
            if reader:  # the hooks API needs at least the Maintainer role
                return self.reply(403, {"message": "403 Forbidden"})
            return self.paged("gitlab", repo["hooks"], q, "per_page", 20, 100)
        if not rest:
            return self.reply(404, {"error": "404 Not Found"})
        if len(rest) == 3 and rest[0] == "issues" and rest[2] == "notes":
            if method == "GET":
                return self.reply(200, [c for c in repo["comments"] if c["issue"] == int(rest[1])])
            if method == "POST":
                if not isinstance(body.get("body"), str) or not body["body"]:
                    return self.reply(400, {"error": "body is missing"})
                return self.reply(201, add_comment(repo, int(rest[1]), body["body"], None))
        if len(rest) == 3 and rest[0] == "merge_requests" and rest[2] == "notes":
            mrs = [m for m in repo["pulls"] if str(m["iid"]) == rest[1]]
            if not mrs:
                return self.reply(404, {"message": "404 Not found"})
            if method == "GET":
                return self.reply(200, [c for c in repo["comments"]
                                        if c["issue"] == int(rest[1]) and c.get("noteable_type")])
            if method == "POST":
                if not isinstance(body.get("body"), str) or not body["body"]:
                    return self.reply(400, {"error": "body is missing"})
                return self.reply(201, add_comment(repo, int(rest[1]), body["body"], None, True))
        if len(rest) == 2 and rest[0] == "merge_requests" and method in ("GET", "PUT"):
            m = next((m for m in repo["pulls"] if str(m["iid"]) == rest[1]), None)
            if m is None:
                return self.reply(404, {"message": "404 Not found"})
            if method == "PUT":
                ev = body.get("state_event")
                if ev not in (None, "close", "reopen"):
                    return self.reply(400, {"error": "state_event does not have a valid value"})
                if ev:
                    m["state"] = "closed" if ev == "close" else "opened"
            return self.reply(200, m)
        if len(rest) == 3 and rest[0] == "merge_requests" and rest[2] == "discussions" and \
                method == "GET":
            n = int(rest[1])
            revs = repo["reviews"].get(n)
            if revs is None and not any(m["iid"] == n for m in repo["pulls"]):
                return self.reply(404, {"message": "404 Not found"})
            for r in revs or []:
                if r["fail"]:
                    return self.reply(r["fail"], {"message": "500 Internal Server Error"})
            return self.paged("gitlab", [d for r in revs or [] for d in r["comments"]], q,
                              "per_page", 20, 100)
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
            labels = body.get("labels") or q.get("labels") or ""
            m = {"id": 1000 + n, "iid": n, "project_id": 1, "title": params["title"],
                 "description": params.get("description", ""), "state": "opened",
                 "labels": [x for x in labels.split(",") if x] if isinstance(labels, str)
                 else labels,
                 "assignees": [gl_user(i) for i in body.get("assignee_ids") or []],
                 "reviewers": [gl_user(i) for i in body.get("reviewer_ids") or []],
                 "squash": bool(body.get("squash")),
                 "force_remove_source_branch": bool(body.get("remove_source_branch")),
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
        app_tok = auth.split(" ", 1)[1] if " " in auth else ""
        app_ok = APP_TOKENS.get(app_tok, 0) > time.time()  # LOCK is held here
        reader = READER and auth in ("Bearer " + READER, "token " + READER)
        if auth not in ("Bearer " + TOKEN, "token " + TOKEN) and not app_ok and not reader:
            return self.reply(401, {"message": "Bad credentials" if auth else
                                    "Requires authentication",
                                    "documentation_url": "https://docs.github.com/rest"})
        parts = path.split("/")  # ['', 'repos', o, r, ...]
        repo = STATE["github"].get(parts[2] + "/" + parts[3]) if len(parts) > 3 else None
        if repo is None:
            return self.reply(404, {"message": "Not Found"})
        rest = parts[4:]
        if not rest and method == "GET":
            return self.reply(200, {"id": 1, "name": parts[3],
                                    "full_name": parts[2] + "/" + parts[3],
                                    "default_branch": "main", "private": True,
                                    "permissions": {"admin": not reader, "push": True,
                                                    "pull": True}})
        if rest == ["hooks"] and method == "GET":
            if reader:  # a fine-grained token without "Webhooks: read"
                return self.reply(403, {"message": "Resource not accessible by personal access "
                                        "token", "documentation_url": "https://docs.github.com/"
                                        "rest/repos/webhooks#list-repository-webhooks",
                                        "status": "403"})
            return self.paged("github", repo["hooks"], q, "per_page", 30, 100)
        if not rest:
            return self.reply(404, {"message": "Not Found"})
        if len(rest) == 5 and rest[0] == "pulls" and rest[2] == "reviews" and \
                rest[4] == "comments" and method == "GET":
            for r in repo["reviews"].get(int(rest[1]), []):
                if str(r["id"]) == rest[3]:
                    if r["fail"]:
                        return self.reply(r["fail"], {"message": "Server Error"})
                    return self.paged("github", r["comments"], q, "per_page", 30, 100)
            return self.reply(404, {"message": "Not Found",
                                    "documentation_url": "https://docs.github.com/rest/pulls/"
                                    "reviews#list-comments-for-a-pull-request-review"})
        if len(rest) == 2 and rest[0] == "pulls" and method in ("GET", "PATCH"):
            p = next((p for p in repo["pulls"] if str(p["number"]) == rest[1]), None)
            if p is None:
                return self.reply(404, {"message": "Not Found",
                                        "documentation_url": "https://docs.github.com/rest"})
            if method == "PATCH":
                if body.get("state") not in (None, "open", "closed"):
                    return self.reply(422, {"message": "Validation Failed", "errors": [
                        {"resource": "PullRequest", "field": "state", "code": "invalid"}]})
                if body.get("state"):
                    p["state"] = body["state"]
            return self.reply(200, p)
        if len(rest) == 3 and rest[0] in ("issues", "pulls") and rest[2] in (
                "labels", "assignees", "requested_reviewers") and method == "POST":
            p = next((p for p in repo["pulls"] if str(p["number"]) == rest[1]), None)
            key = {"labels": "labels", "assignees": "assignees",
                   "requested_reviewers": "reviewers"}[rest[2]]
            if p is None or (rest[0] == "pulls") != (rest[2] == "requested_reviewers"):
                return self.reply(404, {"message": "Not Found"})
            vals = body.get(key)
            if not isinstance(vals, list) or not all(isinstance(v, str) for v in vals):
                return self.reply(422, {"message": "Validation Failed", "errors": [
                    {"resource": "Issue", "field": key, "code": "invalid"}]})
            if rest[2] == "labels":
                for v in vals:
                    if v not in [x["name"] for x in p["labels"]]:
                        p["labels"].append({"id": next_id(), "name": v, "color": "ededed"})
                return self.reply(200, p["labels"])
            if rest[2] == "requested_reviewers":
                if any(v not in USERS for v in vals):
                    return self.reply(422, {"message": "Reviews may only be requested from "
                                            "collaborators. One or more of the users or teams "
                                            "you specified is not a collaborator of the "
                                            "%s/%s repository." % (parts[2], parts[3])})
                p["requested_reviewers"] += [gh_user(v) for v in vals]
                return self.reply(201, p)
            p["assignees"] += [gh_user(v) for v in vals if v in USERS]
            return self.reply(201, p)
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
                 "labels": [], "assignees": [], "requested_reviewers": [],
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
