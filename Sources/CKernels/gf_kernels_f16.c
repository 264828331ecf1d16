/* The kernels for float in 512-bit vectors (16 floats): AVX-512 (x86-64-v4), used when the CPU
   has it, as gf_kernels_w8.c for double. */
#include "gf_internal.h"
#if GF_HAVE_W8
#include <math.h>
#include <string.h>
#pragma clang attribute push(__attribute__((target("arch=x86-64-v4"))), apply_to = function)
#define GF_TARGET
#define GF_FLOAT 1
#define GF_VW 16
#define GF_NAME(name) name##_f16
#include "gf_vector_body.h"
#pragma clang attribute pop
#endif
