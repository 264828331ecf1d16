#!/usr/bin/env bash
# Times the three products of dcgan28's middle convolution layer on one core: the direct AVX-512
# kernels (Sources/CKernels/gf_conv.c) against im2col + OpenBLAS sgemm as BilinearMaps.swift runs
# them. Needs clang (the Swift toolchain's) and OpenBLAS (as .ci/run installs them).
#   Benchmarks/conv/run.sh [BATCH]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
k="$here/../../Sources/CKernels"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
clang -O2 -I"$k/include" -I"$k" "$here/harness.c" "$k"/gf_conv.c "$k"/gf_im2col.c "$k"/gf_kernels.c "$k"/gf_kernels_w4.c \
  "$k"/gf_kernels_w8.c "$k"/gf_kernels_f8.c "$k"/gf_kernels_f16.c -o "$out/harness" -lopenblas -lm
OPENBLAS_NUM_THREADS=1 taskset -c 0 "$out/harness" "$@"
