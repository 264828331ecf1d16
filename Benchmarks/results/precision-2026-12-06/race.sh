#!/usr/bin/env bash
# The race at both precisions, one thread, pinned to core 0, in alternated rounds on a quiet host:
# GameFlow's gan-step (dcgan28 on Fashion-MNIST, batch 64; ring8 MLP, batch 512) at float32 and
# float64, PyTorch eager (Benchmarks/reference/torch_gan_step.py) at both, and JAX jit
# (jax_gan_step.py, ring8 only) in float32. Writes race.log beside this script (or LOG).
# Usage: Benchmarks/results/precision-2026-12-06/race.sh [GAMEFLOW-BENCH] [ROUNDS] [LOG]
set -euo pipefail
B=${1:-.build/release/gameflow-bench}
rounds=${2:-2}
here=$(dirname "$0")
ref=$here/../../reference
log=${3:-$here/race.log}
: > "$log"
export OPENBLAS_NUM_THREADS=1 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
run() { echo "## $*" >> "$log"; taskset -c 0 "$@" 2>&1 | grep -E "ms/step|^torch|^jax|simga|consensus" >> "$log"; }
for round in $(seq "$rounds"); do
  echo "# round $round" >> "$log"
  for p in float32 float64; do
    run "$B" gan-step --architecture dcgan28 --data fashion-mnist --batch 64 --steps 5 --repeats 3 --warmup 1 --schemes simga,consensus --precision "$p"
  done
  run python3 "$ref/torch_gan_step.py" --architecture dcgan28 --steps 5 --repeats 3 --warmup 2
  run python3 "$ref/torch_gan_step.py" --architecture dcgan28 --steps 5 --repeats 3 --warmup 2 --float64
  for p in float32 float64; do
    run "$B" gan-step --schemes simga,consensus --precision "$p"
  done
  run python3 "$ref/jax_gan_step.py"
  run python3 "$ref/torch_gan_step.py"
done
cat "$log"
