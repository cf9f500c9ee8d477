#!/usr/bin/env python3
"""An exfiltration sink for the containment test (tests/e2e/test_containment.sh): answers every
request with 200 and appends it in full (request line, headers, body) to --log, so the test can
assert that nothing a hostile coding command sent carries a credential, and count the beacons of
a process that tries to outlive it. Listens on 127.0.0.1 at --port (0 = any); prints PORT=<n>.
"""
import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
ARGS = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def record(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        with LOCK, open(ARGS.log, "ab") as f:
            f.write(("%s %s\n" % (self.command, self.path)).encode())
            f.write(str(self.headers).encode(errors="replace"))
            f.write(body + b"\n----\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_PUT = record


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True)
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    print("PORT=%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
