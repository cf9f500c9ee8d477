"""What the heartbeat load generators of the e2e tests share (stdlib only; hb_load.py for
test_hb_group_commit.sh, hb_mem_load.py for test_hb_memory.sh): one thread per agent, each on its
own keep-alive connection to droverd's /rpc, beating for its task until droverd goes away or the
file STOP exists. What each answer means is the caller's.
"""
import http.client
import json
import os
import threading
import time
from urllib.parse import urlsplit


def heartbeats(url, token, task, stop, res, before=time.time):
    """Beat for `task` until STOP exists or droverd is gone. For each answer yields (mark, out):
    mark is what before() returned just before the request was sent (default: the wall time),
    out the answer's structuredContent, or None for an answer other than 200 (counted in
    res["errors"])."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "heartbeat",
                                  "arguments": {"status": "busy", "task_ids": [task]}}})
    while not os.path.exists(stop):
        mark = before()
        try:
            conn.request("POST", "/rpc", body, hdr)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            return  # droverd is gone
        if r.status != 200:
            res["errors"] += 1
            yield mark, None
            continue
        yield mark, (json.loads(data).get("result") or {}).get("structuredContent") or {}


def run(tokens, out, fresh, beat):
    """For each line "AGENT_ID TOKEN TASK_ID" of the file `tokens`, a thread running
    beat(token, task, res), res being fresh() with "task" and "errors" added; when all are done,
    {agent: res} goes to the file `out` as JSON."""
    results, threads = {}, []
    for line in open(tokens):
        agent, token, task = line.split()
        res = dict(fresh(), task=int(task), errors=0)
        results[agent] = res
        th = threading.Thread(target=beat, args=(token, int(task), res))
        th.start()
        threads.append(th)
    for th in threads:
        th.join()
    with open(out, "w") as f:
        json.dump(results, f)
