#!/usr/bin/env python3
"""The fixed workload scripts/callgrind.sh counts droverd's instructions over (stdlib only).

One agent on one keep-alive HTTP connection. On droverd's stateless JSON-RPC endpoint (/rpc):
  claims    N x (get_next_task wait 0 -> update_task_status completed), the tasks pre-filled
  heartbeat M x heartbeat {status: busy, task_ids: [its open task]}
and on /mcp, the same heartbeat as the v2 TypeScript SDK client (@modelcontextprotocol/client
2.4.0) sends it in each MCP era, headers and body byte for byte but the Host, token, session
and ids (captured from the SDK; see SDK_HEADERS):
  legacy    M x heartbeat in 2025-11-25, in the session `session` opened (initialize +
            notifications/initialized): Mcp-Session-Id and MCP-Protocol-Version headers
  modern    M x heartbeat in 2026-07-28, stateless: the _meta envelope (protocolVersion,
            clientInfo, clientCapabilities) and the MCP-Protocol-Version, Mcp-Method and
            Mcp-Name headers
scripts/callgrind.sh zeroes and dumps callgrind's counters around each phase, so each count is
of its phase alone. Every request must succeed: a failed call fails the run (the
count would be of a different workload).

usage: callgrind_load.py URL TOKEN claims COUNT
       callgrind_load.py URL TOKEN claim1            (claims one task, prints its id)
       callgrind_load.py URL TOKEN heartbeats COUNT TASK_ID
       callgrind_load.py URL TOKEN session           (opens a 2025-11-25 session, prints its id)
       callgrind_load.py URL TOKEN legacy COUNT TASK_ID SESSION
       callgrind_load.py URL TOKEN modern COUNT TASK_ID
"""
import http.client
import json
import sys
from urllib.parse import urlsplit

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
CLIENT_INFO = {"name": "drover-sdk2-e2e", "version": "0.0.1"}  # tests/protocol/sdk2-client.mjs
# The SDK's POST as Node's fetch (undici) puts it on the wire (captured through a logging proxy
# from tests/protocol/sdk2-client.mjs's client): host, connection, the token, the era's headers
# (`extra`), then these; content-length last.
SDK_TAIL = [("content-type", "application/json"), ("accept", "application/json, text/event-stream"),
            ("accept-language", "*"), ("sec-fetch-mode", "cors"), ("user-agent", "node"),
            ("accept-encoding", "gzip, deflate")]


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

    def mcp(msg, extra, want=200):
        """POST `msg` to /mcp as the SDK does, the era's headers `extra`: (response, body)."""
        body = json.dumps(msg, separators=(",", ":"))
        conn.putrequest("POST", "/mcp", skip_host=True, skip_accept_encoding=True)
        conn.putheader("host", f"{u.hostname}:{u.port}")
        conn.putheader("connection", "keep-alive")
        conn.putheader("Authorization", "Bearer " + token)
        for k, v in extra + SDK_TAIL:
            conn.putheader(k, v)
        conn.putheader("content-length", str(len(body)))
        conn.endheaders(body.encode())
        r = conn.getresponse()
        data = r.read()
        if r.status != want:
            sys.exit(f"{msg.get('method')}: HTTP {r.status}: {data[:300]!r}")
        if want == 200:
            res = json.loads(data).get("result") or {}
            if not res or res.get("isError"):
                sys.exit(f"{msg.get('method')}: {data[:300]!r}")
        return r, data

    def beat_msg(tid, meta):
        nonlocal rid
        rid += 1
        params = {"name": "heartbeat", "arguments": {"status": "busy", "task_ids": [tid]}}
        if meta:
            params["_meta"] = {"io.modelcontextprotocol/protocolVersion": MODERN,
                               "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
                               "io.modelcontextprotocol/clientCapabilities": {}}
        return {"method": "tools/call", "params": params, "jsonrpc": "2.0", "id": rid}

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
    elif phase == "session":
        r, _ = mcp({"method": "initialize", "params": {
            "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": CLIENT_INFO},
            "jsonrpc": "2.0", "id": 0}, [])
        sid = r.getheader("mcp-session-id")
        if not sid:
            sys.exit("initialize: no Mcp-Session-Id")
        mcp({"jsonrpc": "2.0", "method": "notifications/initialized"},
            [("mcp-session-id", sid), ("mcp-protocol-version", LEGACY)], want=202)
        print(sid)
    elif phase == "legacy":
        tid, sid = int(sys.argv[5]), sys.argv[6]
        for _ in range(count):
            mcp(beat_msg(tid, False), [("mcp-session-id", sid), ("mcp-protocol-version", LEGACY)])
    elif phase == "modern":
        tid = int(sys.argv[5])
        for _ in range(count):
            mcp(beat_msg(tid, True), [("mcp-protocol-version", MODERN),
                                      ("mcp-method", "tools/call"), ("mcp-name", "heartbeat")])
    else:
        sys.exit("phase: claims | claim1 | heartbeats | session | legacy | modern")


if __name__ == "__main__":
    main()
