#!/usr/bin/env python3
"""A scripted stand-in for the Anthropic Messages API, for running the real Claude Code CLI
offline (tests/e2e/test_claude_agent.sh). Written from Anthropic's published API reference:

  POST /v1/messages           (any query string, e.g. ?beta=true) with "stream": true answers
                              server-sent events in the documented order: message_start (the
                              message with usage.input_tokens), then per content block
                              content_block_start, content_block_delta (text_delta for text,
                              input_json_delta with partial_json for tool_use), content_block_stop,
                              then message_delta (stop_reason, usage.output_tokens) and
                              message_stop; a ping after message_start. Without "stream" it
                              answers the whole message as JSON.
  POST /v1/messages/count_tokens   {"input_tokens": N}
  anything else               404 with an error object

Authentication as the API does it: the x-api-key header (or Authorization: Bearer for
gateway tokens) must equal --token, else 401 {"type":"error","error":{"type":
"authentication_error",...}}.

The script (--script FILE, JSON) is a list of attempts {"when": TEXT or null, "turns": [...]}.
A request belongs to the first attempt whose "when" occurs in its first user message (null
matches any), and its turn is the number of assistant messages already in the conversation;
past the last turn the model ends with a short text. A turn is {"blocks": [...], "usage":
{"input_tokens", "output_tokens"}}; a block is {"text": "..."} or {"tool": NAME, "input": {...}}
where "{cwd}" in any string is replaced by the working directory Claude Code names in its
system prompt. Requests that offer no tools (Claude Code's side requests: titles, quota
checks) get a short text with zero usage, so they never change the totals.

GET /_fake/requests lists what was asked: per request the path, model, the tool names offered,
the tool_result blocks received (tool_use_id, is_error, text) and the usage answered; GET
/_fake/usage the sums of input and output tokens answered. Listens on 127.0.0.1 at --port (0 =
any) and prints PORT=<n>.
"""
import argparse
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOCK = threading.Lock()
REQUESTS = []
TOTALS = {"input_tokens": 0, "output_tokens": 0}
SCRIPT = []
TOKEN = ""


def text_of(content):
    if isinstance(content, str):
        return content
    out = []
    for b in content or []:
        if isinstance(b, dict):
            if b.get("type") == "text":
                out.append(b.get("text", ""))
            elif b.get("type") == "tool_result":
                out.append(text_of(b.get("content")))
    return "\n".join(out)


def system_text(system):
    return text_of(system) if not isinstance(system, str) else system


def fill(v, cwd):
    if isinstance(v, str):
        return v.replace("{cwd}", cwd)
    if isinstance(v, list):
        return [fill(x, cwd) for x in v]
    if isinstance(v, dict):
        return {k: fill(x, cwd) for k, x in v.items()}
    return v


def plan(req):
    """The blocks and usage of the answer to `req`, and whether it is a main-loop turn."""
    msgs = req.get("messages") or []
    if not req.get("tools"):
        return [{"text": "ok"}], {"input_tokens": 0, "output_tokens": 0}, False
    first = next((text_of(m.get("content")) for m in msgs if m.get("role") == "user"), "")
    turn = sum(1 for m in msgs if m.get("role") == "assistant")
    m = re.search(r"Working directory: *(\S+)", system_text(req.get("system")) + "\n" +
                  "\n".join(text_of(x.get("content")) for x in msgs))
    cwd = m.group(1) if m else "."
    for att in SCRIPT:
        if att.get("when") is None or att["when"] in first:
            turns = att["turns"]
            if turn < len(turns):
                t = turns[turn]
                return fill(t["blocks"], cwd), dict(t["usage"]), True
            return [{"text": "Finished."}], {"input_tokens": 1, "output_tokens": 1}, True
    return [{"text": "No script for this prompt."}], {"input_tokens": 1, "output_tokens": 1}, True


def content_blocks(blocks):
    out = []
    for b in blocks:
        if "tool" in b:
            out.append({"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:24],
                        "name": b["tool"], "input": b.get("input", {})})
        else:
            out.append({"type": "text", "text": b["text"]})
    return out


def sse(event, data):
    return ("event: %s\ndata: %s\n\n" % (event, json.dumps(data))).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj, extra=()):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_" + uuid.uuid4().hex[:20])
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, code, kind, message):
        self.reply(code, {"type": "error", "error": {"type": kind, "message": message}})

    def authorised(self):
        key = self.headers.get("x-api-key") or ""
        auth = self.headers.get("authorization") or ""
        return TOKEN and (key == TOKEN or auth == "Bearer " + TOKEN)

    def do_GET(self):
        path = urlsplit(self.path).path
        with LOCK:
            if path == "/_fake/requests":
                return self.reply(200, REQUESTS)
            if path == "/_fake/usage":
                return self.reply(200, TOTALS)
        self.error(404, "not_found_error", "not found: " + path)

    def do_POST(self):
        path = urlsplit(self.path).path
        n = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(n) if n else b""
        if not self.authorised():
            with LOCK:
                REQUESTS.append({"path": path, "refused": True})
            return self.error(401, "authentication_error", "invalid x-api-key")
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self.error(400, "invalid_request_error", "body is not JSON")
        if path == "/v1/messages/count_tokens":
            return self.reply(200, {"input_tokens": len(body) // 4})
        if path != "/v1/messages":
            return self.error(404, "not_found_error", "not found: " + path)
        blocks, usage, main = plan(req)
        content = content_blocks(blocks)
        results = []
        for m in req.get("messages") or []:
            for b in m.get("content") if isinstance(m.get("content"), list) else []:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    results.append({"tool_use_id": b.get("tool_use_id"),
                                    "is_error": bool(b.get("is_error")),
                                    "text": text_of(b.get("content"))[:2000]})
        with LOCK:
            REQUESTS.append({"path": path, "model": req.get("model"), "main": main,
                             "tools": [t.get("name") for t in req.get("tools") or []],
                             "first_user": next((text_of(m.get("content"))[-20000:]
                                                 for m in req.get("messages") or []
                                                 if m.get("role") == "user"), ""),
                             "tool_results": results, "answer": content, "usage": usage})
            TOTALS["input_tokens"] += usage["input_tokens"]
            TOTALS["output_tokens"] += usage["output_tokens"]
        stop = "tool_use" if any(c["type"] == "tool_use" for c in content) else "end_turn"
        msg = {"id": "msg_" + uuid.uuid4().hex[:24], "type": "message", "role": "assistant",
               "model": req.get("model") or "claude-sonnet-4-5", "content": [],
               "stop_reason": None, "stop_sequence": None,
               "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1,
                         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}
        if not req.get("stream"):
            msg.update(content=content, stop_reason=stop)
            msg["usage"]["output_tokens"] = usage["output_tokens"]
            return self.reply(200, msg)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        out = [sse("message_start", {"type": "message_start", "message": msg}),
               sse("ping", {"type": "ping"})]
        for i, c in enumerate(content):
            if c["type"] == "text":
                out.append(sse("content_block_start", {"type": "content_block_start", "index": i,
                                                       "content_block": {"type": "text",
                                                                         "text": ""}}))
                words = c["text"].split(" ")
                for k, w in enumerate(words):
                    out.append(sse("content_block_delta", {
                        "type": "content_block_delta", "index": i,
                        "delta": {"type": "text_delta",
                                  "text": w + (" " if k < len(words) - 1 else "")}}))
            else:
                out.append(sse("content_block_start", {
                    "type": "content_block_start", "index": i,
                    "content_block": {"type": "tool_use", "id": c["id"], "name": c["name"],
                                      "input": {}}}))
                js = json.dumps(c["input"])
                for k in range(0, len(js), 16):  # the input arrives in pieces, as documented
                    out.append(sse("content_block_delta", {
                        "type": "content_block_delta", "index": i,
                        "delta": {"type": "input_json_delta", "partial_json": js[k:k + 16]}}))
            out.append(sse("content_block_stop", {"type": "content_block_stop", "index": i}))
        out.append(sse("message_delta", {"type": "message_delta",
                                         "delta": {"stop_reason": stop, "stop_sequence": None},
                                         "usage": {"output_tokens": usage["output_tokens"]}}))
        out.append(sse("message_stop", {"type": "message_stop"}))
        try:
            for chunk in out:
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


def main():
    global SCRIPT, TOKEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="")
    ap.add_argument("--script", required=True)
    a = ap.parse_args()
    TOKEN = a.token
    with open(a.script) as f:
        SCRIPT = json.load(f)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print("PORT=%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
