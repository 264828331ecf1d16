#!/usr/bin/env bash
# The experiment's table and figures from a finished sweep folder (cells/cell-N/ run folders):
# FID against steps and against training time per method (gameflow plot), the last sample grids,
# and a Markdown table of best and final FID (mean ± standard deviation over seeds), ms per step
# and multiply-adds per field evaluation.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
G="${G:-$here/../../../.build/release/gameflow}"
sweep="${1:?usage: report.sh SWEEP_DIR}"
cells=("$sweep"/cells/cell-*/)
"$G" plot "${cells[@]}" --metric fid --x step --output fid-step.svg --quiet
"$G" plot "${cells[@]}" --metric fid --x seconds --output fid-seconds.svg --quiet
echo "| method | seeds | best FID | final FID (step 1,000) | ms/step (training) | multiply-adds per evaluation of v |"
echo "|---|---|---|---|---|---|"
for dir in "${cells[@]}"; do
  s="$dir/summary.json"
  label=$(jq -r '.scheme + (if .gamma then " γ=\(.gamma)" else "" end) + (if .alpha then " α=\(.alpha)" else "" end)
    + (if .anderson_depth then " m=\(.anderson_depth)" else "" end) + (if .configuration.lookahead then " + lookahead k \(.configuration.lookahead.k), α \(.configuration.lookahead.alpha)" else "" end)
    + (if .r1 > 0 then " + R1 γ=\(.r1)" else "" end) + (if .configuration.precision then ", \(.configuration.precision)" else "" end)' "$s")
  awk -F, -v label="$label" -v ms="$(jq -r .ms_per_step "$s")" -v madds="$(jq -r .multiply_adds_per_field "$s")" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "fid") col = i }
    NR > 1 && $col != "" { if (best == "" || $col + 0 < best) best = $col + 0; last = $col + 0 }
    END { printf "%s\t%.2f\t%.2f\t%.1f\t%s\n", label, best, last, ms, madds }' "$dir/metrics.csv"
done | sort -t$'\t' -k1,1 -s | awk -F'\t' '
  { n[$1]++; b[$1] += $2; bb[$1] += $2 * $2; f[$1] += $3; ff[$1] += $3 * $3; ms[$1] += $4; m[$1] = $5; order[$1] = NR }
  END {
    for (k in n) {
      sb = sqrt((bb[k] - b[k] * b[k] / n[k]) / (n[k] - 1 > 0 ? n[k] - 1 : 1))
      sf = sqrt((ff[k] - f[k] * f[k] / n[k]) / (n[k] - 1 > 0 ? n[k] - 1 : 1))
      printf "| %s | %d | %.1f ± %.1f | %.1f ± %.1f | %.0f | %.3g G |\n", k, n[k], b[k] / n[k], sb, f[k] / n[k], sf, ms[k] / n[k], m[k] / 1e9
    }
  }' | sort
