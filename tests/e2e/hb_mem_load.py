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
import sys
import time

import hbload


def beat(url, token, task, stop, period, watch, res):
    for sent, out in hbload.heartbeats(url, token, task, stop, res):
        for t in (out or {}).get("tasks") or []:
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
    hbload.run(tokens, out,
               lambda: {"lease": "", "last_ack": 0.0, "acks": 0, "first_cancel": None,
                        "regress": 0},
               lambda token, task, res: beat(url, token, task, stop, period, watch, res))


if __name__ == "__main__":
    main()
