#!/usr/bin/env bash
# The short form of the chaos suite for CTest (the long form is scripts/chaos.sh): 150 tasks,
# 6 agents, the same faults (agents kill -9'd, droverd SIGKILLed and restarted twice,
# PostgreSQL restarted once with -m immediate, stalled connections). It runs a PostgreSQL
# cluster of its own (initdb; as the postgres user under runuser when root), since restarting
# the database needs control of the cluster. Must finish within 7 minutes: alone on the 2-core
# machine the workload takes ~80 s (ASan), but CI runs the ASan and plain suites in two shards
# each at once, and the chaos suites of all four shards meet (measured: 181-233 s under ASan).
set -u
: "${DROVER_SOURCE_DIR:?}" "${DROVER_BUILD_DIR:?}"
export CHAOS_TASKS=${CHAOS_TASKS:-150} CHAOS_AGENTS=${CHAOS_AGENTS:-6}
export CHAOS_DEADLINE=${CHAOS_DEADLINE:-360} CHAOS_PORTS=${CHAOS_PORTS:-18640-18659}
exec timeout 420 "$DROVER_SOURCE_DIR/tests/chaos/chaos.sh"
