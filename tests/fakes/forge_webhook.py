#!/usr/bin/env python3
"""Send a forge webhook delivery the way the forge does: one of tests/fakes/webhooks/*.json
(the forges' documented example payloads) with @NUMBER@ / @BRANCH@ filled in, and the forge's
headers and signature.

  forge_webhook.py --forge github --url URL --secret S --event pull_request_review \
      --payload github_pull_request_review --number 1 --branch drover/1-x [--delivery ID]

github: X-GitHub-Event, X-GitHub-Delivery, X-Hub-Signature-256 (sha256=hex HMAC-SHA256).
gitea:  X-Gitea-Event / X-Gitea-Event-Type (--event-type), X-Gitea-Delivery, X-Gitea-Signature
        (hex), plus the X-Forgejo-* copies with --forgejo, and X-Hub-Signature-256 as Gitea does.
gitlab: X-Gitlab-Event, X-Gitlab-Token, Idempotency-Key, X-Gitlab-Event-UUID, X-Gitlab-Instance;
        with a whsec_ secret the Standard Webhooks webhook-id/-timestamp/-signature instead.
Prints "STATUS BODY".
"""
import argparse
import base64
import hashlib
import hmac
import os
import time
import urllib.error
import urllib.request
import uuid

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "webhooks")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--forge", required=True, choices=["github", "gitea", "gitlab"])
    ap.add_argument("--url", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--event", required=True)
    ap.add_argument("--event-type")
    ap.add_argument("--payload", required=True)
    ap.add_argument("--number", default="1")
    ap.add_argument("--branch", default="main")
    ap.add_argument("--delivery")
    ap.add_argument("--forgejo", action="store_true")
    a = ap.parse_args()
    with open(os.path.join(HERE, a.payload + ".json"), encoding="utf-8") as f:
        body = f.read().strip().replace("@NUMBER@", a.number).replace("@BRANCH@", a.branch)
    raw = body.encode("utf-8")
    delivery = a.delivery or str(uuid.uuid4())
    sig = hmac.new(a.secret.encode(), raw, hashlib.sha256).hexdigest()
    h = {"Content-Type": "application/json"}
    if a.forge == "github":
        h.update({"User-Agent": "GitHub-Hookshot/e2e", "X-GitHub-Event": a.event,
                  "X-GitHub-Delivery": delivery, "X-GitHub-Hook-ID": "1",
                  "X-Hub-Signature-256": "sha256=" + sig})
    elif a.forge == "gitea":
        t = a.event_type or a.event
        h.update({"User-Agent": "Go-http-client/1.1", "X-Gitea-Event": a.event,
                  "X-Gitea-Event-Type": t, "X-Gitea-Delivery": delivery,
                  "X-Gitea-Signature": sig, "X-Gogs-Event": a.event, "X-Gogs-Delivery": delivery,
                  "X-Gogs-Signature": sig, "X-GitHub-Event": a.event,
                  "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": "sha256=" + sig})
        if a.forgejo:
            h.update({"X-Forgejo-Event": a.event, "X-Forgejo-Event-Type": t,
                      "X-Forgejo-Delivery": delivery, "X-Forgejo-Signature": sig})
    else:
        h.update({"User-Agent": "GitLab/19.0.0", "X-Gitlab-Event": a.event,
                  "Idempotency-Key": delivery, "X-Gitlab-Event-UUID": str(uuid.uuid4()),
                  "X-Gitlab-Webhook-UUID": str(uuid.uuid4()),
                  "X-Gitlab-Instance": "https://gitlab.example"})
        if a.secret.startswith("whsec_"):
            key = base64.b64decode(a.secret[6:])
            ts = str(int(time.time()))
            mac = hmac.new(key, ("%s.%s." % (delivery, ts)).encode() + raw, hashlib.sha256)
            h.update({"webhook-id": delivery, "webhook-timestamp": ts,
                      "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode()})
        else:
            h["X-Gitlab-Token"] = a.secret
    req = urllib.request.Request(a.url, data=raw, headers=h, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            print(r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode())


if __name__ == "__main__":
    main()
