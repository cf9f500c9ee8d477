#!/usr/bin/env python3
"""Heartbeat load for test_hb_memory.sh (stdlib only): one thread per agent on its own keep-alive
connection to droverd's /rpc, beating for its task every PERIOD seconds until droverd goes away
or the file STOP exists. Per agent it keeps what a crash test needs: the largest lease_expires_at
droverd answered for the task while not cancelled, the wall time at which the last acknowledged
heartbeat was sent, and for the watched task the send time of the first answer saying cancelled
and how many answers after that said otherwise (a cancel must never be taken back).
Writes one JSON object: {agent: {task, lease, last_ack, acks, errors, first_cancel, regress}}.

usage: hb_mem_load.py URL TOKENS_FILE OUT_FILE STOP PERIOD WATCH_TASK
  TOKENS_FILE: lines "AGENT_ID TOKEN TASK_ID"
"""
import http.client
import json
import os
import sys
import threading
import time
from urllib.parse import urlsplit


def beat(url, token, task, stop, period, watch, res):
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "heartbeat",
                                  "arguments": {"status": "busy", "task_ids": [task]}}})
    while not os.path.exists(stop):
        sent = time.time()
        try:
            conn.request("POST", "/rpc", body, hdr)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            return  # droverd is gone
        if r.status != 200:
            res["errors"] += 1
        else:
            out = (json.loads(data).get("result") or {}).get("structuredContent") or {}
            for t in out.get("tasks") or []:
                if t.get("id") != task:
                    continue
                res["acks"] += 1
                res["last_ack"] = sent
                if t.get("cancelled"):
                    if res["first_cancel"] is None:
                        res["first_cancel"] = sent
                else:
                    if res["first_cancel"] is not None:
                        res["regress"] += 1
                    if t.get("lease_expires_at") and t["lease_expires_at"] > res["lease"]:
                        res["lease"] = t["lease_expires_at"]
        left = period - (time.time() - sent)
        if left > 0:
            time.sleep(left)


def main():
    url, tokens, out, stop, period, watch = sys.argv[1:7]
    period, watch = float(period), int(watch)
    results, threads = {}, []
    for line in open(tokens):
        agent, token, task = line.split()
        res = {"task": int(task), "lease": "", "last_ack": 0.0, "acks": 0, "errors": 0,
               "first_cancel": None, "regress": 0}
        results[agent] = res
        th = threading.Thread(target=beat, args=(url, token, int(task), stop, period, watch, res))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    with open(out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
