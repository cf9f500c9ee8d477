#!/usr/bin/env bash
# The long chaos run (docs/chaos.md): 1,000 tasks, 8 agents, agents kill -9'd every ~2 s,
# droverd SIGKILLed and restarted twice, PostgreSQL restarted once, stalled connections.
# Builds first unless DROVER_BUILD_DIR points at a build. Extra settings: see tests/chaos/chaos.sh.
#   scripts/chaos.sh [TASKS]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DROVER_BUILD_DIR:-}" ]; then
    cmake -S . -B build -DDROVER_WERROR=ON >/dev/null
    cmake --build build -j"$(nproc)" >/dev/null
    export DROVER_BUILD_DIR=$PWD/build
fi
export DROVER_SOURCE_DIR=$PWD
CHAOS_TASKS=${1:-${CHAOS_TASKS:-1000}} CHAOS_AGENTS=${CHAOS_AGENTS:-8} CHAOS_PORTS=${CHAOS_PORTS:-18660-18699} \
    exec tests/chaos/chaos.sh
