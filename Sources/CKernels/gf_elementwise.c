/* Element-wise passes in AVX-512: RMSProp's per-coordinate update (8 doubles per vector) and the
   ReLU / leaky ReLU passes of the networks (16 floats or 8 doubles). The Swift loops they replace
   are compiled for baseline x86-64 (SSE2: two doubles or four floats per instruction); RMSProp's
   square root and division were about 3 % of a float32 dcgan28 SimGA step there, the activation
   passes about 3 %.

   Exactness: every lane computes the same operations in the same order as the Swift loops
   (Preconditioned.swift, Pointwise.swift), each correctly rounded and none fused (contraction is
   off in this file); the selects keep x where x > 0 (false for NaN), as the loops do. So the
   results are the Swift loops' to the bit. The call returns 0 on CPUs without
   AVX-512 and on threads that asked for the 4-wide kernels (gf_kernels_set_width): the Swift loops
   run then. */
#include "gf_internal.h"

#pragma clang fp contract(off)

#if GF_HAVE_W8
#include <immintrin.h>

__attribute__((target("arch=x86-64-v4")))
static void rmsprop_w8(long n, double *x, const double *start, double *second, double inv, double h, double decay, double eps) {
    const __m512d vinv = _mm512_set1_pd(inv), vh = _mm512_set1_pd(h), vdecay = _mm512_set1_pd(decay);
    const __m512d vkeep = _mm512_set1_pd(1 - decay), veps = _mm512_set1_pd(eps);
    for (long i = 0; i < n; i += 8) {
        const __mmask8 m = n - i >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (n - i)) - 1);
        const __m512d xs = _mm512_maskz_loadu_pd(m, x + i), st = _mm512_maskz_loadu_pd(m, start + i);
        const __m512d sc = _mm512_maskz_loadu_pd(m, second + i);
        /* d = (x − start)·inv;  s = decay·second + ((1 − decay)·d)·d;  x = start + (h·d)/√(s + ε) */
        const __m512d d = _mm512_mul_pd(_mm512_sub_pd(xs, st), vinv);
        const __m512d s = _mm512_add_pd(_mm512_mul_pd(vdecay, sc), _mm512_mul_pd(_mm512_mul_pd(vkeep, d), d));
        _mm512_mask_storeu_pd(second + i, m, s);
        const __m512d step = _mm512_div_pd(_mm512_mul_pd(vh, d), _mm512_sqrt_pd(_mm512_add_pd(s, veps)));
        _mm512_mask_storeu_pd(x + i, m, _mm512_add_pd(st, step));
    }
}

/* y = x > 0 ? r : slope·r (leaky) or 0, per lane; r = x gives the activation itself. One
   definition for both types: T, the vector and mask types, the lanes and the intrinsics' suffix. */
#define GF_RELU(NAME, T, V, M, LANES, SX)                                                              \
    __attribute__((target("arch=x86-64-v4")))                                                          \
    static void NAME(const T *x, const T *r, T *y, long n, T slope, int leaky) {                       \
        const V vs = _mm512_set1_##SX(slope), zero = _mm512_setzero_##SX();                            \
        for (long i = 0; i < n; i += LANES) {                                                          \
            const M m = n - i >= LANES ? (M)~0u : (M)((1u << (n - i)) - 1);                            \
            const V xs = _mm512_maskz_loadu_##SX(m, x + i), rs = _mm512_maskz_loadu_##SX(m, r + i);    \
            const M positive = _mm512_cmp_##SX##_mask(xs, zero, _CMP_GT_OQ);                           \
            const V other = leaky ? _mm512_mul_##SX(vs, rs) : zero;                                    \
            _mm512_mask_storeu_##SX(y + i, m, _mm512_mask_blend_##SX(positive, other, rs));            \
        }                                                                                              \
    }
GF_RELU(relu_f, float, __m512, __mmask16, 16, ps)
GF_RELU(relu_d, double, __m512d, __mmask8, 8, pd)
#endif

int gf_relu_f(const float *x, const float *r, float *y, long n, float slope, int leaky) {
    GF_RUN_W8(1, relu_f(x, r, y, n, slope, leaky));
}

int gf_relu_d(const double *x, const double *r, double *y, long n, double slope, int leaky) {
    GF_RUN_W8(1, relu_d(x, r, y, n, slope, leaky));
}

int gf_rmsprop_d(long n, double *x, const double *start, double *second, double inv, double h, double decay, double eps) {
    GF_RUN_W8(1, rmsprop_w8(n, x, start, second, inv, h, decay, eps));
}
