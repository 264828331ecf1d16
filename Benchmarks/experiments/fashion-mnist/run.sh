#!/usr/bin/env bash
# The paper's image experiment (its Figures 4–6) on Fashion-MNIST: dcgan28 (batch-norm free),
# RMSProp lr 1e-4, batch 64, 1,000 steps; SimGA, AltGA (D first, as the reference code),
# consensus γ = 0.1 and γ = 10, and SimGA + R1 (γ 1) as the modern baseline; 3 seeds each, as one
# sweep on both cores. FID/KID/classifier score every 100 steps against the 10,000 test images in
# the features of GameFlow's own classifier.
#   Benchmarks/experiments/fashion-mnist/run.sh OUT [SPEC]    (needs a release build: swift build -c release)
# SPEC defaults to spec.json beside this script; spec-literature.json is the rest of the methods
# zoo at the same setup (seed 0; α = 0.1 for LA, LOLA and SOS, the consensus γ that did better here).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
G="${G:-$here/../../../.build/release/gameflow}"
out="${1:?usage: run.sh OUT [SPEC]}"
spec="$(cd "$(dirname "${2:-$here/spec.json}")" && pwd)/$(basename "${2:-$here/spec.json}")"
mkdir -p "$out"
cd "$out"
[ -f clf/classifier.json ] || "$G" classifier --data fashion-mnist --output clf --quiet
cp "$spec" spec-in.json
"$G" sweep spec-in.json --output sweep --jobs "${JOBS:-2}"
"$here/report.sh" sweep > results.md
