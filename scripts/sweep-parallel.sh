#!/usr/bin/env bash
# A sweep in N shards through GNU parallel, then merged:
#   scripts/sweep-parallel.sh SPEC.json N OUT [parallel options…]
# On one machine every shard runs locally (each with --jobs 1; N = the cores). Over ssh:
#   scripts/sweep-parallel.sh spec.json 8 out --sshlogin 4/node1,4/node2 --workdir /shared/gameflow
# (the spec, the zoo files and `gameflow` must be at the same path on every host, and OUT on a
# shared filesystem). Each cell is written atomically, so a failed or killed shard is finished by
# running this again: finished cells are skipped.
set -euo pipefail
spec=$1; n=$2; out=$3; shift 3
G=${GAMEFLOW:-gameflow}
mkdir -p "$out"
seq 1 "$n" | parallel --will-cite --halt now,fail=1 "$@" "$G" sweep "$spec" --output "$out/shard-{}" --shard "{}/$n" --jobs 1 --quiet
shards=()
for i in $(seq 1 "$n"); do shards+=("$out/shard-$i"); done
"$G" sweep merge "${shards[@]}" --output "$out/merged"
