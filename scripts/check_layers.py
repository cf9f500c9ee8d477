#!/usr/bin/env python3
"""The layering of droverd and the agent side, enforced: every `#include "dir/file.h"` of a
source file under server/ or agent/ must name a folder its own folder may use (the table below,
which docs/architecture.md shows). Sibling folders that must not know each other are simply
absent from each other's rows. Prints each offending include with file:line and exits 1;
exits 0 when the tree keeps to the table.

  scripts/check_layers.py [SOURCE_DIR]
"""
import os
import re
import sys

# folder -> folders it may include from (its own is always allowed)
MAY_USE = {
    "server": {"cmd", "net", "mcp", "api", "svc", "pool", "forge", "store", "core"},  # main.c
    "server/cmd": {"net", "mcp", "api", "svc", "pool", "forge", "store", "core"},
    "server/net": {"mcp", "api", "core"},
    "server/mcp": {"svc", "core"},
    "server/api": {"svc", "core"},
    "server/svc": {"store", "forge", "pool", "core"},
    "server/pool": {"store", "core"},
    "server/forge": {"core"},
    "server/store": {"core"},
    "server/core": set(),
    # The agent side talks to droverd over the network only: it shares server/core, no more.
    "agent": {"lib", "runner", "core"},  # agent_main.c
    "agent/lib": {"core"},
    "agent/runner": {"lib", "core"},
    "agent/ctl": {"lib", "core"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path):
    """The table row a file belongs to: its folder, relative to the source root."""
    return os.path.dirname(path)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    bad = []
    checked = 0
    for top in ("server", "agent"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                row = folder_of(path)
                if row not in MAY_USE:
                    bad.append("%s: folder %s is not in the layering table" % (path, row))
                    continue
                own = row.split("/", 1)[1] if "/" in row else None
                checked += 1
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or "/" not in m.group(1):
                            continue  # "x.h" of the same folder, or a system header
                        target = m.group(1).split("/")[0]
                        if target == own or target in MAY_USE[row]:
                            continue
                        bad.append("%s:%d: %s may not include %s (may use: %s)" %
                                   (path, n, row, m.group(1),
                                    ", ".join(sorted(MAY_USE[row])) or "libraries only"))
    for b in bad:
        print(b)
    print("%d files checked, %d include(s) against the layering" % (checked, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
