#!/usr/bin/env bash
# Fault injection: kill training runs at random moments (and so, now and then, at a file commit)
# with SIGKILL, SIGINT, SIGTERM and SIGHUP, resume each, and check that state.json and metrics.csv
# (all but the seconds column) equal an uninterrupted run's, byte for byte.
#   G=.build/debug/gameflow N=8 Tests/faults/run.sh      (CI runs it after swift test)
set -uo pipefail
G=${G:-.build/debug/gameflow}
N=${N:-8}
SEED=${SEED:-$RANDOM}
RANDOM=$SEED
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--scheme simga --lr 1e-4 --batch 64 --steps 1500 --every 50 --no-eigenvalues --quiet --checkpoint-seconds 0.2)
"$G" train "${args[@]}" --output "$work/whole" >/dev/null || { echo "uninterrupted run failed"; exit 1; }
signals=(KILL INT TERM HUP)
passed=0 failed=0
for i in $(seq 1 "$N"); do
    sig=${signals[$((i % 4))]}
    dir="$work/run$i"
    "$G" train "${args[@]}" --output "$dir" >/dev/null 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
    kill -"$sig" "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # Resume until the run is complete (a resume may itself be killed in a longer test).
    if [ -f "$dir/checkpoint.json" ]; then
        "$G" resume "$dir" --quiet >/dev/null 2>&1 || { echo "run $i (SIG$sig): resume failed"; failed=$((failed + 1)); continue; }
    else
        rm -rf "$dir"; "$G" train "${args[@]}" --output "$dir" >/dev/null
    fi
    leftovers=$(find "$dir" -name '*.tmp-*' | wc -l)
    if cmp -s "$work/whole/state.json" "$dir/state.json" \
        && diff -q <(cut -d, -f1-7 "$work/whole/metrics.csv") <(cut -d, -f1-7 "$dir/metrics.csv") >/dev/null \
        && [ "$leftovers" -eq 0 ] ; then
        passed=$((passed + 1))
    else
        echo "run $i (SIG$sig, seed $SEED): differs from the uninterrupted run (or left $leftovers temporary files)"
        failed=$((failed + 1))
    fi
done
echo "faults: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
