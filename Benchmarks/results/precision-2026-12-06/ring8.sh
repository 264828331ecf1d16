#!/usr/bin/env bash
# The paper's ring8 consensus setup (RMSProp lr 1e-4, γ 10, batch 512, 30,000 steps) at both
# precisions of the networks, seeds 0 1 2: one train run each on one core, then ring8.md.
# Usage: Benchmarks/results/precision-2026-12-06/ring8.sh [GAMEFLOW] [OUTDIR]
set -euo pipefail
G=${1:-.build/release/gameflow}
OUT=${2:-$(dirname "$0")}
: > "$OUT/ring8.jsonl"
for precision in float64 float32; do
  for seed in 0 1 2; do
    line=$("$G" train --data ring8 --scheme consensus --gamma 10 --optimizer rmsprop --lr 1e-4 --steps 30000 \
      --precision "$precision" --seed "$seed" --no-eigenvalues --quiet --json)
    printf '{"precision": "%s", "seed": %s, "run": %s}\n' "$precision" "$seed" "$line" >> "$OUT/ring8.jsonl"
  done
done
python3 - "$OUT" <<'PY'
import json, sys, statistics
out = sys.argv[1]
runs = [json.loads(l) for l in open(f"{out}/ring8.jsonl")]
md = ["| networks | modes captured (seeds 0 / 1 / 2) | ‖v‖ at the end (seeds 0 / 1 / 2) | ms per step (median, training) |", "|---|---|---|---|"]
for p in ("float64", "float32"):
    rs = sorted((r for r in runs if r["precision"] == p), key=lambda r: r["seed"])
    md.append(f"| {p} | " + " / ".join(str(r["run"]["modes_captured"]) for r in rs) + " | "
              + " / ".join(f'{r["run"]["vector_field_norm"]:.3g}' for r in rs) + " | "
              + f'{statistics.median(r["run"]["ms_per_step"] for r in rs):.3f} |')
open(f"{out}/ring8.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
