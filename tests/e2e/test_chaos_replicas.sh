#!/usr/bin/env bash
# The short form of the replicated chaos suite for CTest (the long form is
# `scripts/chaos.sh --replicas 3`): three droverd replicas behind HAProxy, the kubernetes pod
# backend against the fake API server whose kubelet runs each agent pod as a local
# drover-agent, 120 tasks, 5 agents; a replica kill -9'd every ~4 s (every other kill aims at
# the pool leader) and restarted, PostgreSQL restarted once, agents kill -9'd. Runs a
# PostgreSQL cluster of its own (as the postgres user under runuser when root). Must finish
# within 8 minutes (generous: CI runs four shards at once, and their chaos suites meet). See
# docs/chaos.md.
set -u
: "${DROVER_SOURCE_DIR:?}" "${DROVER_BUILD_DIR:?}"
export CHAOS_REPLICAS=${CHAOS_REPLICAS:-3} CHAOS_TASKS=${CHAOS_TASKS:-120} CHAOS_AGENTS=${CHAOS_AGENTS:-5}
export CHAOS_DEADLINE=${CHAOS_DEADLINE:-360} CHAOS_PORTS=${CHAOS_PORTS:-18740-18769}
exec timeout 480 "$DROVER_SOURCE_DIR/tests/chaos/chaos_replicas.sh"
