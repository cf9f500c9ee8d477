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
import os
import sys
import time

import hbload

GRACE = 1.0  # seconds: the shortest heartbeat interval droverd tells agents


def beat(url, token, task, stop, cancelled, watch, res):
    def before():
        after_cancel = task == watch and os.path.exists(cancelled)
        return after_cancel, after_cancel and time.time() > os.path.getmtime(cancelled) + GRACE

    for (after_cancel, late), out in hbload.heartbeats(url, token, task, stop, res, before):
        if out is None:
            continue
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
    hbload.run(tokens, out,
               lambda: {"lease": "", "beat": "", "acks": 0, "cancel_seen": False,
                        "cancel_missed": 0, "after_cancel": 0},
               lambda token, task, res: beat(url, token, task, stop, cancelled, watch, res))


if __name__ == "__main__":
    main()
