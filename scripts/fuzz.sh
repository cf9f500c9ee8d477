#!/usr/bin/env bash
# The documented long fuzzing run (docs/fuzzing.md): builds the libFuzzer targets with clang
# in build-fuzz/ and runs each for SECONDS (default 120), new inputs going to
# build-fuzz/corpus/<x>/ (the seed corpora in tests/fuzz/corpus/ are only read).
# Prints one line per target: executions, seconds, corpus size. Any crash fails the run and
# leaves its input in build-fuzz/artifacts/.
#   scripts/fuzz.sh [SECONDS] [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
shift || true
build=${DROVER_FUZZ_BUILD:-build-fuzz}
CC=clang cmake -S . -B "$build" -DDROVER_FUZZ=ON -DDROVER_WERROR=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        t=${f##*/fuzz_}
        targets+=("${t%.c}")
    done
fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
mkdir -p "$build/artifacts"
total=0
for t in "${targets[@]}"; do
    mkdir -p "$build/corpus/$t"
    log="$build/fuzz_$t.log"
    start=$(date +%s)
    "$build/tests/fuzz_$t" -max_total_time="$secs" -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" "tests/fuzz/corpus/$t" \
        >"$log" 2>&1 || { echo "fuzz_$t: CRASH, see $log"; tail -30 "$log"; exit 1; }
    end=$(date +%s)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    corpus=$(( $(ls "$build/corpus/$t" | wc -l) + $(ls "tests/fuzz/corpus/$t" | wc -l) ))
    total=$((total + runs))
    printf '%-12s executions %10d  seconds %4d  corpus %5d\n' "$t" "$runs" $((end - start)) "$corpus"
done
echo "total executions $total"
