#!/usr/bin/env bash
# Checks every build of the C kernels (AVX-512 where the CPU has it; target_clones: AVX2/FMA and
# baseline) against plain loops.
# On an AVX2 machine the loader always picks the AVX2 build, so the baseline build is run under
# user-mode QEMU with a pre-AVX CPU (apt-get install -y qemu-user). Not part of `swift test`.
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-$(dirname "$(command -v swift)")/clang}
out=$(mktemp -d)
"$CC" -O2 -I../../Sources/CKernels/include check.c ../../Sources/CKernels/*.c -o "$out/check" -lm
"$out/check"
if command -v qemu-x86_64 >/dev/null; then
    qemu-x86_64 -cpu Nehalem "$out/check"
else
    echo "qemu-x86_64 not found: baseline build not run (apt-get install -y qemu-user)"
fi
