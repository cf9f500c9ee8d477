#!/usr/bin/env python3
"""A scripted Anthropic Messages API for driving Claude Code (`claude -p`) offline, as a
developer's agent that delegates work to Drover over MCP (tests/e2e/test_claude_delegate.sh).

POST /v1/messages (streamed, SSE as published): when the request offers the tool named by
--tool and the conversation has no tool_result yet, answer with one tool_use block calling it
with --input (JSON); once a tool_result is in the conversation, answer end_turn with a text
that quotes the first 400 characters of that result. Requests without that tool (side requests)
get a short end_turn text. POST /v1/messages/count_tokens answers a small count. Every request
body is appended to --log as one JSON line. Listens on 127.0.0.1:--port (0 = any) and prints
PORT=<n>.
"""
import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None


def sse(events):
    return "".join("event: %s\ndata: %s\n\n" % (e["type"], json.dumps(e)) for e in events).encode()


def message(blocks, stop):
    usage = {"input_tokens": 10, "output_tokens": 5}
    ev = [{"type": "message_start", "message": {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}}]
    for i, b in enumerate(blocks):
        if b["type"] == "text":
            ev.append({"type": "content_block_start", "index": i,
                       "content_block": {"type": "text", "text": ""}})
            ev.append({"type": "content_block_delta", "index": i,
                       "delta": {"type": "text_delta", "text": b["text"]}})
        else:
            ev.append({"type": "content_block_start", "index": i, "content_block": {
                "type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}})
            ev.append({"type": "content_block_delta", "index": i, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(b["input"])}})
        ev.append({"type": "content_block_stop", "index": i})
    ev.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
               "usage": {"output_tokens": 5}})
    ev.append({"type": "message_stop"})
    return sse(ev)


def tool_result_text(messages):
    for m in messages:
        content = m.get("content")
        if not isinstance(content, list):
            continue
        for b in content:
            if isinstance(b, dict) and b.get("type") == "tool_result":
                c = b.get("content")
                if isinstance(c, list):
                    return "".join(x.get("text", "") for x in c if isinstance(x, dict))
                return str(c)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            req = json.loads(raw)
        except ValueError:
            return self.reply(400, b'{"type":"error"}', "application/json")
        with open(ARGS.log, "a") as f:
            f.write(json.dumps(req) + "\n")
        if self.path.startswith("/v1/messages/count_tokens"):
            return self.reply(200, b'{"input_tokens":10}', "application/json")
        tools = [t.get("name") for t in req.get("tools") or []]
        done = tool_result_text(req.get("messages") or [])
        if ARGS.tool in tools and done is None:
            body = message([{"type": "tool_use", "id": "toolu_fake1", "name": ARGS.tool,
                             "input": json.loads(ARGS.input)}], "tool_use")
        elif done is not None:
            body = message([{"type": "text", "text": "Delegated: " + done[:400]}], "end_turn")
        else:
            body = message([{"type": "text", "text": "ok"}], "end_turn")
        self.reply(200, body, "text/event-stream")


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tool", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--log", required=True)
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    print("PORT=%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
