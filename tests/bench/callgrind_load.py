#!/usr/bin/env python3
"""The fixed workload scripts/callgrind.sh counts droverd's instructions over (stdlib only).

One agent on one keep-alive HTTP connection to droverd's stateless JSON-RPC endpoint (/rpc):
  claims    N x (get_next_task wait 0 -> update_task_status completed), the tasks pre-filled
  heartbeat M x heartbeat {status: busy, task_ids: [its open task]}
scripts/callgrind.sh zeroes and dumps callgrind's counters around each phase, so each count is
of its phase alone. Every request must succeed: a failed call fails the run (the
count would be of a different workload).

usage: callgrind_load.py URL TOKEN claims COUNT
       callgrind_load.py URL TOKEN claim1            (claims one task, prints its id)
       callgrind_load.py URL TOKEN heartbeats COUNT TASK_ID
"""
import http.client
import json
import sys
from urllib.parse import urlsplit


def main():
    url, token, phase = sys.argv[1], sys.argv[2], sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    rid = 0

    def call(name, args):
        nonlocal rid
        rid += 1
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                           "params": {"name": name, "arguments": args}})
        conn.request("POST", "/rpc", body, hdr)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"{name}: HTTP {r.status}: {data[:300]!r}")
        res = json.loads(data).get("result") or {}
        if res.get("isError"):
            sys.exit(f"{name}: {res}")
        return res.get("structuredContent") or {}

    if phase == "claims":
        for _ in range(count):
            t = call("get_next_task", {"wait_seconds": 0}).get("task")
            if not t:
                sys.exit("get_next_task: the queue ran dry")
            call("update_task_status", {"task_id": t["id"], "lease_epoch": t["lease_epoch"],
                                        "status": "completed"})
    elif phase == "claim1":
        t = call("get_next_task", {"wait_seconds": 0}).get("task")
        if not t:
            sys.exit("get_next_task: no task to beat for")
        print(t["id"])
    elif phase == "heartbeats":
        tid = int(sys.argv[5])
        for _ in range(count):
            call("heartbeat", {"status": "busy", "task_ids": [tid]})
    else:
        sys.exit("phase: claims | claim1 | heartbeats")


if __name__ == "__main__":
    main()
