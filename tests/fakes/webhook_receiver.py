#!/usr/bin/env python3
"""A receiver of Drover's outbound notifications for the tests: it answers the first --fail
POSTs with 503 (a receiver that is down), then 200 "ok" (it recovered), and checks each
delivery's Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature:
space-separated "v1,<base64 HMAC-SHA256 of id.timestamp.body>", the key being the base64-decoded
part of a "whsec_" secret, else the secret's bytes). GET /_fake/received lists every POST as
{path, status, id, timestamp, verified, body}. Listens on 127.0.0.1 (any port), prints PORT=<n>.
"""
import argparse
import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
RECEIVED = []
ARGS = None


def verified(h, raw):
    if not ARGS.secret:
        return False
    key = ARGS.secret.encode()
    if ARGS.secret.startswith("whsec_"):
        key = base64.b64decode(ARGS.secret[6:])
    msg = ("%s.%s." % (h.get("webhook-id", ""), h.get("webhook-timestamp", ""))).encode() + raw
    want = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    for part in h.get("webhook-signature", "").split(" "):
        if part.startswith("v1,") and hmac.compare_digest(part[3:], want):
            return True
    return False


class H(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_fake/received":
            with LOCK:
                return self.send(200, json.dumps(RECEIVED), "application/json")
        self.send(404, "no")

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        h = {k.lower(): v for k, v in self.headers.items()}
        with LOCK:
            status = 503 if len(RECEIVED) < ARGS.fail else 200
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            RECEIVED.append({"path": self.path, "status": status, "id": h.get("webhook-id"),
                             "timestamp": h.get("webhook-timestamp"),
                             "content_type": h.get("content-type"),
                             "verified": verified(h, raw), "body": body})
        self.send(status, "ok" if status == 200 else "down for maintenance")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--secret", default="")
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    print("PORT=%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
