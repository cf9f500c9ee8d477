#!/usr/bin/env python3
"""Heartbeat load for test_hb_group_commit.sh (stdlib only): one thread per agent, each on its own
keep-alive connection to droverd's /rpc, beating for its task as fast as answers come, until
droverd goes away or the file STOP exists. For every acknowledged heartbeat it keeps the largest
lease_expires_at and last_heartbeat_at droverd answered; for the watched task it records whether
any answer to a heartbeat sent more than GRACE seconds after the file CANCELLED appeared failed to
say cancelled (heartbeats answered from memory learn of a cancel by NOTIFY: a few ms, within one
heartbeat interval, not before the cancel's own answer).
Writes one JSON object: {agent: {task, lease, beat, acks, cancel_seen, cancel_missed}}.

usage: hb_load.py URL TOKENS_FILE OUT_FILE STOP CANCELLED WATCH_TASK
  TOKENS_FILE: lines "AGENT_ID TOKEN TASK_ID"
"""
import http.client
import json
import os
import sys
import threading
import time
from urllib.parse import urlsplit

GRACE = 1.0  # seconds: the shortest heartbeat interval droverd tells agents


def beat(url, token, task, stop, cancelled, watch, res):
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "heartbeat",
                                  "arguments": {"status": "busy", "task_ids": [task]}}})
    while not os.path.exists(stop):
        after_cancel = task == watch and os.path.exists(cancelled)
        late = after_cancel and time.time() > os.path.getmtime(cancelled) + GRACE
        try:
            conn.request("POST", "/rpc", body, hdr)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            return  # droverd is gone
        if r.status != 200:
            res["errors"] += 1
            continue
        out = (json.loads(data).get("result") or {}).get("structuredContent") or {}
        res["acks"] += 1
        beat_at = (out.get("agent") or {}).get("last_heartbeat_at")
        if beat_at and beat_at > res["beat"]:
            res["beat"] = beat_at
        for t in out.get("tasks") or []:
            if t.get("id") != task:
                continue
            if t.get("cancelled"):
                res["cancel_seen"] = True
                if after_cancel:
                    res["after_cancel"] += 1
            else:
                if late:
                    res["cancel_missed"] += 1
                if t.get("lease_expires_at") and t["lease_expires_at"] > res["lease"]:
                    res["lease"] = t["lease_expires_at"]


def main():
    url, tokens, out, stop, cancelled, watch = sys.argv[1:7]
    watch = int(watch)
    results, threads = {}, []
    for line in open(tokens):
        agent, token, task = line.split()
        res = {"task": int(task), "lease": "", "beat": "", "acks": 0, "errors": 0,
               "cancel_seen": False, "cancel_missed": 0, "after_cancel": 0}
        results[agent] = res
        th = threading.Thread(target=beat, args=(url, token, int(task), stop, cancelled, watch, res))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    with open(out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
