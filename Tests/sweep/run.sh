#!/usr/bin/env bash
# Sweeps that scale, checked end to end (run by CI from the repository root):
#  1. 3 shards through GNU parallel, merged, equal the unsharded sweep byte for byte;
#  2. --jobs 1 and --jobs 2 give the same results.csv;
#  3. a sweep killed with SIGKILL at 5 random moments (each after a random number of finished
#     cells) and re-run gives the same results.csv.
# Usage: G=path/to/gameflow Tests/sweep/run.sh
set -euo pipefail
G=${G:-.build/debug/gameflow}
SPEC=Tests/sweep/spec.json
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
"$G" sweep "$SPEC" --output "$T/all" --jobs 2 --quiet
parallel --will-cite --halt now,fail=1 "$G" sweep "$SPEC" --output "$T/shard-{}" --shard {}/3 --jobs 1 --quiet ::: 1 2 3
"$G" sweep merge "$T"/shard-1 "$T"/shard-2 "$T"/shard-3 --output "$T/merged" > /dev/null
if cmp -s "$T/all/results.csv" "$T/merged/results.csv"; then echo "sweep: 3 shards via GNU parallel + merge = unsharded (byte for byte)"; else echo "sweep: FAIL merged shards differ"; fail=1; fi
"$G" sweep "$SPEC" --output "$T/one" --jobs 1 --quiet
if cmp -s "$T/all/results.csv" "$T/one/results.csv"; then echo "sweep: --jobs 1 = --jobs 2"; else echo "sweep: FAIL --jobs 1 differs"; fail=1; fi
total=$(ls "$T/all/cells" | grep -c '^cell-')
for k in 1 2 3 4 5; do
  d="$T/kill-$k"
  # Kill at a random point mid-sweep: once a random number of cells (1 … total − 2) is done.
  target=$(( RANDOM % (total - 2) + 1 ))
  "$G" sweep "$SPEC" --output "$d" --jobs 2 --quiet & pid=$!
  while kill -0 "$pid" 2>/dev/null && [ "$(ls "$d/cells" 2>/dev/null | grep -c '^cell-' || true)" -lt "$target" ]; do sleep 0.02; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  done_before=$(ls "$d/cells" 2>/dev/null | grep -c '^cell-' || true)
  if [ "$done_before" -ge "$total" ]; then echo "sweep: FAIL kill $k came after the sweep had finished"; fail=1; continue; fi
  "$G" sweep "$SPEC" --output "$d" --jobs 2 --quiet
  if cmp -s "$T/all/results.csv" "$d/results.csv"; then echo "sweep: killed after $done_before of $total cells, re-run = uninterrupted"; else echo "sweep: FAIL kill $k"; fail=1; fi
done
exit $fail
