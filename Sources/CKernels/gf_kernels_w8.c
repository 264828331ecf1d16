/* The 8-wide build of the kernels: AVX-512 (x86-64-v4), used when the CPU has it. On CPUs with
   two 512-bit FMA units (Intel server cores) it reaches up to twice the multiply-adds per cycle
   of the 4-wide AVX2 build, with bit-identical results (gf_internal.h). */
#include "gf_internal.h"
#if GF_HAVE_W8
#include <math.h>
#include <string.h>
#pragma clang attribute push(__attribute__((target("arch=x86-64-v4"))), apply_to = function)
#define GF_TARGET
#define GF_VW 8
#define GF_NAME(name) name##_w8
#include "gf_vector_body.h"
#pragma clang attribute pop
#endif
