#!/usr/bin/env bash
# Checks every build of the C kernels (AVX-512 where the CPU has it; target_clones: AVX2/FMA and
# baseline) against plain loops, natively and with AddressSanitizer (packing past the end of
# gf_scratch_count's scratch would go unnoticed otherwise). On an AVX2 machine the loader
# always picks the AVX2 build, so the baseline build is run under user-mode QEMU with a pre-AVX
# CPU (apt-get install -y qemu-user). Not part of `swift test`.
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-$(dirname "$(command -v swift)")/clang}
out=$(mktemp -d)
"$CC" -O2 -I../../Sources/CKernels/include check.c ../../Sources/CKernels/*.c -o "$out/check" -lm
"$out/check"
"$CC" -O1 -g -fsanitize=address -fno-omit-frame-pointer -I../../Sources/CKernels/include check.c \
    ../../Sources/CKernels/*.c -o "$out/check-asan" -lm 2>/dev/null
ASAN_OPTIONS=detect_leaks=0 "$out/check-asan"
if command -v qemu-x86_64 >/dev/null; then
    qemu-x86_64 -cpu Nehalem "$out/check"
else
    echo "qemu-x86_64 not found: baseline build not run (apt-get install -y qemu-user)"
fi
