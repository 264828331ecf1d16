/* The kernels for float in 256-bit vectors (8 floats): an AVX2/FMA clone and a baseline clone of
   every entry point (target_clones), as gf_kernels_w4.c for double. Bit-identical to the 16-wide
   float build (gf_internal.h's rule). */
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define GF_TARGET __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GF_TARGET
#endif
#define GF_FLOAT 1
#define GF_VW 8
#define GF_NAME(name) name##_f8
#include "gf_vector_body.h"
