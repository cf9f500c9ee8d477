#!/usr/bin/env python3
"""A small MCP server over Streamable HTTP (2025-11-25 transport rules) that answers every
request as an SSE stream, for testing clients' SSE, session and error handling:

  * POST /mcp only; GET -> 405. Authorization: Bearer --token, else 401.
  * initialize -> SSE: a priming event (id, empty data), a notification, then the response;
    the Mcp-Session-Id header starts a session. Later requests need that header (missing -> 400,
    unknown -> 404) and an MCP-Protocol-Version header (missing or unsupported -> 400).
  * tools/call: "echo" returns its arguments as structuredContent; "text_only" returns them
    only as content[0].text; "boom" is an isError result {"error":{"code":"stale_epoch",...}};
    "forget" ends every session (the next request gets 404); others -> JSON-RPC -32602.
  * notifications -> 202.
Listens on 127.0.0.1:--port (0 = any), prints PORT=<n>.
"""
import argparse
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SESSIONS = set()
LOCK = threading.Lock()
TOKEN = ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def plain(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.plain(405, b"", [("Allow", "POST")])

    def sse(self, events, headers=()):
        body = "".join(events).encode()
        self.plain(200, body, [("Content-Type", "text/event-stream")] + list(headers))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.plain(401, b'{"error":"invalid_token"}',
                              [("Content-Type", "application/json"),
                               ("WWW-Authenticate", 'Bearer error="invalid_token"')])
        if "text/event-stream" not in self.headers.get("Accept", ""):
            return self.plain(406, b"")
        try:
            msg = json.loads(raw)
        except ValueError:
            return self.plain(400, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}')
        method = msg.get("method")
        mid = msg.get("id")
        if method == "initialize":
            sid = uuid.uuid4().hex
            with LOCK:
                SESSIONS.add(sid)
            result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                      "serverInfo": {"name": "fake-mcp", "version": "1"}}
            return self.sse(["id: 1\ndata:\n\n",
                             "event: message\ndata: " + json.dumps(
                                 {"jsonrpc": "2.0", "method": "notifications/message",
                                  "params": {"level": "info", "data": "hello"}}) + "\n\n",
                             "event: message\nid: 2\ndata: " + json.dumps(
                                 {"jsonrpc": "2.0", "id": mid, "result": result}) + "\n\n"],
                            [("Mcp-Session-Id", sid)])
        sid = self.headers.get("Mcp-Session-Id")
        if not sid:
            return self.plain(400, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: missing session"}}')
        with LOCK:
            known = sid in SESSIONS
        if not known:
            return self.plain(404, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}')
        if self.headers.get("MCP-Protocol-Version") not in ("2025-11-25", "2025-06-18", "2025-03-26"):
            return self.plain(400, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Unsupported protocol version"}}')
        if mid is None:
            return self.plain(202)
        if method != "tools/call":
            return self.sse(["data: " + json.dumps({"jsonrpc": "2.0", "id": mid, "error": {
                "code": -32601, "message": "Method not found"}}) + "\n\n"])
        name = msg["params"].get("name")
        args = msg["params"].get("arguments", {})
        if name == "echo":
            res = {"content": [{"type": "text", "text": json.dumps(args)}], "structuredContent": args}
        elif name == "text_only":
            res = {"content": [{"type": "text", "text": json.dumps(args)}]}
        elif name == "boom":
            res = {"content": [{"type": "text", "text": json.dumps(
                {"error": {"code": "stale_epoch", "message": "lease epoch 1 is not current"}})}],
                "isError": True}
        elif name == "forget":
            with LOCK:
                SESSIONS.clear()
            res = {"content": [{"type": "text", "text": "{}"}], "structuredContent": {}}
        else:
            return self.sse(["data: " + json.dumps({"jsonrpc": "2.0", "id": mid, "error": {
                "code": -32602, "message": "Unknown tool: %s" % name}}) + "\n\n"])
        # A multi-line data field, as the SSE format allows, split across two data lines.
        text = json.dumps({"jsonrpc": "2.0", "id": mid, "result": res}, indent=1)
        lines = text.split("\n")
        return self.sse(["id: 7\n", "data: " + "\ndata: ".join(lines) + "\n\n"])


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
