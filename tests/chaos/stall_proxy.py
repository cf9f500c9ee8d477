#!/usr/bin/env python3
"""A loopback TCP proxy that injects network delays for the chaos suite.

  stall_proxy.py LISTEN_PORT TARGET_PORT SEED STALL_PCT MAX_STALL_S

Every accepted connection is forwarded to 127.0.0.1:TARGET_PORT. Each chunk of data, in either
direction, is held with probability STALL_PCT percent for 0.1 to MAX_STALL_S seconds before it
is forwarded (a slow or congested link, not a dropped one); long-lived keep-alive connections
and long polls are stalled mid-stream, not only when they open. Connections
to a dead target are closed at once, so clients see droverd restarts as refused/reset
connections. Prints "stalls N" on SIGTERM.
"""
import random
import signal
import socket
import sys
import threading
import time

listen_port, target_port, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
stall_pct, max_stall = float(sys.argv[4]), float(sys.argv[5])
rng = random.Random(seed)
lock = threading.Lock()
stalls = 0


def stall():
    global stalls
    with lock:
        if rng.random() * 100 >= stall_pct:
            return 0
        stalls += 1
        return rng.uniform(0.1, max_stall)


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            delay = stall()
            if delay:
                time.sleep(delay)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(client):
    try:
        upstream = socket.create_connection(("127.0.0.1", target_port), timeout=5)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    a = threading.Thread(target=pump, args=(client, upstream), daemon=True)
    b = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    a.start()
    b.start()
    a.join()
    b.join()
    client.close()
    upstream.close()


def done(*_):
    print("stalls %d" % stalls, flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, done)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(512)
print("ready", flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
