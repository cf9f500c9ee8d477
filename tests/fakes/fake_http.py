#!/usr/bin/env python3
"""A small HTTP server for the tests of droverd's shared HTTP client (tests/unit/check_http.c).

Every request is recorded (method, path); GET /_fake/requests lists them as JSON. Paths:

  /echo             answers 200 with JSON {method, path, headers, body, client_port} and the
                    response headers "X-Echo-Id: <query id or 'none'>" and "X-Padded:   v  "
  /status?code=N[&retry_after=S][&body=TEXT]
                    answers N (with Retry-After: S when given), TEXT as a text/plain body
  /redirect?to=URL  answers 302 with Location: URL (the client must not follow it)
  /bytes?n=N        answers N bytes of 'x'
  /slow?s=S         waits S seconds, then answers 200 "slow"
  /stream?lines=N&delay=S
                    a chunked 200 of N lines "line <i>\\n", S seconds apart

--token is accepted for tests/support/fakeproc's calling convention and otherwise unused. TLS
when FAKE_HTTP_TLS_CERT and FAKE_HTTP_TLS_KEY name PEM files; FAKE_HTTP_CLIENT_CA, when set,
makes a client certificate signed by that CA mandatory. Listens on 127.0.0.1 at --port (0 = any)
and prints PORT=<n>.
"""
import argparse
import json
import os
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
REQUESTS = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, body, ctype="text/plain", extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def stream(self, q):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for i in range(int(q.get("lines", "3"))):
                line = ("line %d\n" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                time.sleep(float(q.get("delay", "0")))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up: a test of exactly that

    def handle_any(self):
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode(errors="replace") if n else ""
        with LOCK:
            if u.path != "/_fake/requests":
                REQUESTS.append({"method": self.command, "path": u.path})
            seen = list(REQUESTS)
        if u.path == "/_fake/requests":
            return self.send(200, json.dumps(seen), "application/json")
        if u.path == "/echo":
            out = {"method": self.command, "path": self.path, "body": body,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "client_port": self.client_address[1]}
            return self.send(200, json.dumps(out), "application/json",
                             [("X-Echo-Id", q.get("id", "none")), ("X-Padded", "  v  ")])
        if u.path == "/status":
            extra = [("Retry-After", q["retry_after"])] if "retry_after" in q else []
            return self.send(int(q.get("code", "200")), q.get("body", ""), extra=extra)
        if u.path == "/redirect":
            return self.send(302, "moved", extra=[("Location", q.get("to", "/echo"))])
        if u.path == "/bytes":
            return self.send(200, b"x" * int(q.get("n", "0")), "application/octet-stream")
        if u.path == "/slow":
            time.sleep(float(q.get("s", "1")))
            return self.send(200, "slow")
        if u.path == "/stream":
            return self.stream(q)
        return self.send(404, "no such path")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up (timeouts, aborts, refused TLS) are what the tests do


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    cert, key = os.environ.get("FAKE_HTTP_TLS_CERT"), os.environ.get("FAKE_HTTP_TLS_KEY")
    if cert and key:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        if os.environ.get("FAKE_HTTP_CLIENT_CA"):
            ctx.load_verify_locations(cafile=os.environ["FAKE_HTTP_CLIENT_CA"])
            ctx.verify_mode = ssl.CERT_REQUIRED
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("PORT=%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
