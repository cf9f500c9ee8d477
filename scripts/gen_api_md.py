#!/usr/bin/env python3
"""Render docs/api.md from server/api/openapi.json (the document droverd serves).

  python3 scripts/gen_api_md.py           # rewrite docs/api.md
  python3 scripts/gen_api_md.py --check   # exit 1 when docs/api.md is out of date
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "server/api/openapi.json")
OUT = os.path.join(ROOT, "docs/api.md")

INTRO = """# REST API

Generated from `server/api/openapi.json` (served at `GET /api/openapi.json`) by
`scripts/gen_api_md.py`; `tests/e2e/test_api_docs.sh` fails when this page and the document
disagree, and `tests/unit/check_api.c` fails when the document and the route tables disagree.

## Basics

- Authenticate with `Authorization: Bearer <token>`. **operator** tokens read; **developer**
  tokens read and act on tasks (submit, answer, accept, rework, reject, cancel, retry — their
  own tasks, or every task of a project whose settings say `"developer_access": "project"`);
  **admin** tokens do everything, including the pool, tokens and projects; **agent** tokens are
  refused on `/api` (403) — agents use MCP. No token: 401. A route's scope below is the least
  it needs (a developer passes operator routes; an operator does not pass developer routes).
  Create tokens with `droverd token create` or `POST /api/tokens` / `droverctl token create`.
- Bodies are JSON objects (at most 1 MiB). Unknown task fields are refused, so typos do not
  pass silently.
- Every error is `{"error": {"code": "...", "message": "..."}}`: `code` is stable (match on it),
  `message` says what to fix. Common codes: `body_required`, `invalid_json`, `body_not_object`,
  `invalid_field`, `unknown_field`, `prompt_required`, `repository_required`, `invalid_budget`,
  `invalid_state`, `invalid_parameter`, `invalid_cursor`, `invalid_id`, `invalid_transition`
  (409), `not_found` (404), `conflict` (409), `unauthorized` (401), `forbidden` (403),
  `unavailable` (503).
- `POST /api/tasks` takes an `Idempotency-Key` header: the same key returns the same task (or
  fan-out group) with `"created": false` instead of queueing another.
- Lists page with an opaque `next_cursor`: pass it back as `?cursor=` unchanged; `null` means
  the last page. Pages are stable while tasks are added (newest first, by id).
- Streams: `GET /api/events` and `GET /api/tasks/{id}/logs` take `follow=1` for server-sent
  events (`text/event-stream`; `id:`, `event:`, `data:` lines, a `: keepalive` comment every
  15 s). Each event's `id` is a cursor; reconnect with `Last-Event-ID` (or `?after=`) to resume
  exactly where the last one stopped. A stream of `/api/events` without a cursor starts now.
  Without `follow=1` the same routes return pages (`next` / `next_after` is the cursor to poll
  with), which is what `droverctl task logs -f` uses. `EventSource` cannot send a bearer
  token: read the stream with `fetch()` as the dashboard does.
- Event types: `task` (state changes), `log` (log lines), `system`, `scale` (activity rows with
  `metadata.type = "scale"`), `heartbeat` (agent heartbeats: agent id, status, current task).

## Quick examples

```sh
export DROVER_URL=http://127.0.0.1:8080 DROVER_TOKEN=drv_...   # an admin token
curl -s -X POST $DROVER_URL/api/tasks -H "Authorization: Bearer $DROVER_TOKEN" \\
  -H 'Idempotency-Key: fix-health-1' \\
  -d '{"prompt": "Add a /health endpoint", "repository": "https://git.example/web.git", "branch": "main"}'
# -> 202 {"id": 1, "state": "backlog", ...}
curl -s "$DROVER_URL/api/tasks?state=needs_input&limit=20" -H "Authorization: Bearer $DROVER_TOKEN"
curl -s -X POST $DROVER_URL/api/tasks/1/answer -H "Authorization: Bearer $DROVER_TOKEN" -d '{"answer": "Use port 8080"}'
```

Fan-out: `"agent_count": 3` queues a parent (a group that is never claimed itself) and three
children, each worked by its own agent on its own branch; the parent's `children` lists them,
and cancelling the parent cancels the open children.

Alertmanager: point a webhook receiver at
`http://droverd:8080/api/hooks/alertmanager?project=NAME` with an admin bearer token
(`http_config.authorization.credentials`). One task per firing group (`groupKey`); repeats of
an open group return the same task; `resolved` notes it on the task. The prompt comes from
the project's `settings.alert_template` with `{{alertname}}`, `{{status}}`, `{{groupKey}}`,
`{{receiver}}`, `{{externalURL}}`, `{{alerts}}` (one line per alert),
`{{commonLabels.X}}`, `{{commonAnnotations.X}}` and `{{groupLabels.X}}`.

Schedules: `POST /api/schedules` with a 5-field cron expression in UTC (`*`, `N`, `N-M`,
`*/S`, `N-M/S`, `N/S`, lists, `jan`-`dec`, `sun`-`sat`, weekday 7 = Sunday; both day fields
restricted means either matches). Each slot fires once even with several replicas (a unique
`(schedule, slot)` row); a slot missed while every replica was down is not replayed, only the
latest due one fires.

## Endpoints
"""


def typ(s):
    if not isinstance(s, dict):
        return ""
    if "$ref" in s:
        return s["$ref"].split("/")[-1]
    t = s.get("type", "")
    if isinstance(t, list):
        t = "|".join(t)
    if "enum" in s:
        t += " (" + ", ".join(str(e) for e in s["enum"]) + ")"
    if "oneOf" in s:
        t = " or ".join(typ(x) for x in s["oneOf"])
    if t == "array" and "items" in s:
        t = typ(s["items"]) + "[]"
    return t


def main():
    doc = json.load(open(SRC))
    out = [INTRO]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            out.append("### `%s %s`\n" % (method.upper(), path))
            out.append("%s. Scope: **%s**.\n" % (op["summary"], op.get("x-drover-scope", "?")))
            if op.get("description"):
                out.append(op["description"] + "\n")
            params = op.get("parameters", [])
            if params:
                out.append("| parameter | in | type | meaning |\n| --- | --- | --- | --- |")
                for p in params:
                    out.append("| `%s` | %s | %s | %s |" % (p["name"], p["in"], typ(p.get("schema")),
                                                          p.get("description", "")))
                out.append("")
            body = op.get("requestBody")
            if body:
                schema = body["content"]["application/json"]["schema"]
                out.append("Body: `%s`\n" % typ(schema))
            codes = [c for c in op["responses"] if c != "default"]
            out.append("Responses: " + ", ".join("%s %s" % (c, op["responses"][c]["description"]) for c in codes)
                       + "; errors as above.\n")
    out.append("## Schemas\n")
    for name, s in doc["components"]["schemas"].items():
        out.append("### %s\n" % name)
        if s.get("description"):
            out.append(s["description"] + "\n")
        props = s.get("properties", {})
        if props:
            out.append("| field | type | notes |\n| --- | --- | --- |")
            for k, v in props.items():
                notes = v.get("description", "") if isinstance(v, dict) else ""
                rng = []
                for key in ("minimum", "maximum", "minLength", "maxLength"):
                    if isinstance(v, dict) and key in v:
                        rng.append("%s %s" % (key, v[key]))
                out.append("| `%s` | %s | %s |" % (k, typ(v), "; ".join(filter(None, [notes] + rng))))
            out.append("")
    text = "\n".join(out).rstrip() + "\n"
    if "--check" in sys.argv:
        current = open(OUT).read() if os.path.exists(OUT) else ""
        if current != text:
            print("docs/api.md is out of date: run python3 scripts/gen_api_md.py")
            return 1
        print("1 passed, 0 failed")
        return 0
    open(OUT, "w").write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
