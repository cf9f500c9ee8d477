#!/usr/bin/env bash
# The long chaos run (docs/chaos.md): 1,000 tasks, 8 agents, agents kill -9'd every ~2 s,
# droverd SIGKILLed and restarted twice, PostgreSQL restarted once, stalled connections.
# With --replicas N: N droverd replicas behind HAProxy with the kubernetes pod backend against
# the fake API server, a random replica (the pool leader included) kill -9'd every ~4 s and
# restarted, PostgreSQL restarted once, agents kill -9'd (tests/chaos/chaos_replicas.sh).
# Builds first unless DROVER_BUILD_DIR points at a build. Extra settings: see tests/chaos/.
#   scripts/chaos.sh [--replicas N] [TASKS]
set -euo pipefail
cd "$(dirname "$0")/.."
replicas=
if [ "${1:-}" = --replicas ]; then
    replicas=${2:?--replicas needs a number}
    case $replicas in '' | *[!0-9]*) echo "chaos.sh: --replicas needs a number" >&2; exit 2 ;; esac
    [ "$replicas" -ge 2 ] || { echo "chaos.sh: --replicas needs at least 2" >&2; exit 2; }
    shift 2
fi
if [ -z "${DROVER_BUILD_DIR:-}" ]; then
    cmake -S . -B build -DDROVER_WERROR=ON >/dev/null
    cmake --build build -j"$(nproc)" >/dev/null
    export DROVER_BUILD_DIR=$PWD/build
fi
export DROVER_SOURCE_DIR=$PWD
if [ -n "$replicas" ]; then
    CHAOS_REPLICAS=$replicas CHAOS_TASKS=${1:-${CHAOS_TASKS:-1000}} CHAOS_AGENTS=${CHAOS_AGENTS:-8} \
        CHAOS_PORTS=${CHAOS_PORTS:-18700-18739} exec tests/chaos/chaos_replicas.sh
fi
CHAOS_TASKS=${1:-${CHAOS_TASKS:-1000}} CHAOS_AGENTS=${CHAOS_AGENTS:-8} CHAOS_PORTS=${CHAOS_PORTS:-18660-18699} \
    exec tests/chaos/chaos.sh
