#!/usr/bin/env bash
# The literature's methods at the paper's setup on ring8 (RMSProp, lr 1e-4, 30,000 steps, seeds
# 0 1 2; momentum replaces RMSProp): one train run per (method, seed), one core, then table.md.
# Usage: Benchmarks/results/literature/run.sh [GAMEFLOW] [OUTDIR]
set -euo pipefail
G=${1:-.build/release/gameflow}
OUT=${2:-$(dirname "$0")}
common="--data ring8 --lr 1e-4 --steps 30000 --no-eigenvalues --quiet --json"
methods=(
  "simga|--scheme simga --optimizer rmsprop"
  "altga|--scheme altga --optimizer rmsprop"
  "consensus γ 10|--scheme consensus --gamma 10 --optimizer rmsprop"
  "consensus on D γ 10|--scheme consensus --gamma 10 --consensus-on discriminator --optimizer rmsprop"
  "sga λ 10|--scheme sga --lambda 10 --optimizer rmsprop"
  "TTUR simga, D ×4|--scheme simga --step-scale 1,4 --optimizer rmsprop"
  "altga D 5 steps per G step|--scheme altga --layout discriminator-first --substeps 5,1 --optimizer rmsprop"
  "NK penalty η 0.1|--scheme simga --nk-penalty 0.1 --optimizer rmsprop"
  "extragradient|--scheme extragradient --optimizer rmsprop"
  "optimistic b 1|--scheme optimistic --optimizer rmsprop"
  "optimistic b 0.5|--scheme optimistic --past-weight 0.5 --optimizer rmsprop"
  "simga + negative momentum β −0.5|--scheme simga --optimizer momentum --momentum -0.5"
  "simga + R1 γ 1|--scheme simga --r1 1 --optimizer rmsprop"
  "simga + R2 γ 1|--scheme simga --r2 1 --optimizer rmsprop"
  "simga, WGAN utility + GP λ 1|--scheme simga --utility wgan --gp 1 --optimizer rmsprop"
  "hgd|--scheme hgd --optimizer rmsprop"
  "la α 10|--scheme la --alpha 10 --optimizer rmsprop"
  "lola α 10|--scheme lola --alpha 10 --optimizer rmsprop"
  "cgd (ACGD: with RMSProp)|--scheme cgd --optimizer rmsprop"
  "rosenbrock-euler|--scheme rosenbrock-euler --optimizer rmsprop"
  "simga + lookahead k 5, α 0.5|--scheme simga --optimizer rmsprop --lookahead 5,0.5"
  "sos α 10|--scheme sos --alpha 10 --optimizer rmsprop"
  "gda-am m 5|--scheme gda-am --anderson-depth 5 --optimizer rmsprop"
)
# ONLY="label|label" runs just those methods and appends them to runs.jsonl.
[ -n "${ONLY:-}" ] || : > "$OUT/runs.jsonl"
for m in "${methods[@]}"; do
  label=${m%%|*}; flags=${m#*|}
  if [ -n "${ONLY:-}" ] && ! printf '%s\n' "$ONLY" | tr '|' '\n' | grep -qxF "$label"; then continue; fi
  for seed in 0 1 2; do
    # shellcheck disable=SC2086
    line=$("$G" train $common $flags --seed "$seed")
    printf '{"method": "%s", "seed": %s, "run": %s}\n' "$label" "$seed" "$line" >> "$OUT/runs.jsonl"
  done
done
python3 - "$OUT" <<'PY'
import json, sys, statistics
out = sys.argv[1]
runs = [json.loads(l) for l in open(f"{out}/runs.jsonl")]
methods = list(dict.fromkeys(r["method"] for r in runs))
base = statistics.median(r["run"]["ms_per_step"] for r in runs if r["method"] == "simga")
md = ["| method | modes captured (seeds 0 / 1 / 2) | ‖v‖ (median) | v / v′u / v′ᵀu per step | ms per step (median) | cost / SimGA |",
      "|---|---|---|---|---|---|"]
for m in methods:
    rs = sorted((r for r in runs if r["method"] == m), key=lambda r: r["seed"])
    modes = " / ".join(str(r["run"]["modes_captured"]) for r in rs)
    v = statistics.median(r["run"]["vector_field_norm"] for r in rs)
    ms = statistics.median(r["run"]["ms_per_step"] for r in rs)
    st, n = rs[0]["run"]["stats"], rs[0]["run"]["steps"]
    work = " / ".join(f"{st[k] / n:.3g}" for k in ("field_evaluations", "jacobian_vector_products", "transpose_jacobian_vector_products"))
    md.append(f"| {m} | {modes} | {v:.3g} | {work} | {ms:.3f} | {ms / base:.2f} |")
open(f"{out}/table.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
PY
