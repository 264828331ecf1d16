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

/* y = x > 0 ? r : slope·r (leaky) or 0, per lane; r = x gives the activation itself. */
__attribute__((target("arch=x86-64-v4")))
static void relu_f(const float *x, const float *r, float *y, long n, float slope, int leaky) {
    const __m512 vs = _mm512_set1_ps(slope), zero = _mm512_setzero_ps();
    for (long i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512 xs = _mm512_maskz_loadu_ps(m, x + i), rs = _mm512_maskz_loadu_ps(m, r + i);
        const __mmask16 positive = _mm512_cmp_ps_mask(xs, zero, _CMP_GT_OQ);
        const __m512 other = leaky ? _mm512_mul_ps(vs, rs) : zero;
        _mm512_mask_storeu_ps(y + i, m, _mm512_mask_blend_ps(positive, other, rs));
    }
}

__attribute__((target("arch=x86-64-v4")))
static void relu_d(const double *x, const double *r, double *y, long n, double slope, int leaky) {
    const __m512d vs = _mm512_set1_pd(slope), zero = _mm512_setzero_pd();
    for (long i = 0; i < n; i += 8) {
        const __mmask8 m = n - i >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << (n - i)) - 1);
        const __m512d xs = _mm512_maskz_loadu_pd(m, x + i), rs = _mm512_maskz_loadu_pd(m, r + i);
        const __mmask8 positive = _mm512_cmp_pd_mask(xs, zero, _CMP_GT_OQ);
        const __m512d other = leaky ? _mm512_mul_pd(vs, rs) : zero;
        _mm512_mask_storeu_pd(y + i, m, _mm512_mask_blend_pd(positive, other, rs));
    }
}
#endif

int gf_relu_f(const float *x, const float *r, float *y, long n, float slope, int leaky) {
#if GF_HAVE_W8
    if (gf_kernels_width() != 8) return 0;
    relu_f(x, r, y, n, slope, leaky);
    return 1;
#else
    (void)x; (void)r; (void)y; (void)n; (void)slope; (void)leaky;
    return 0;
#endif
}

int gf_relu_d(const double *x, const double *r, double *y, long n, double slope, int leaky) {
#if GF_HAVE_W8
    if (gf_kernels_width() != 8) return 0;
    relu_d(x, r, y, n, slope, leaky);
    return 1;
#else
    (void)x; (void)r; (void)y; (void)n; (void)slope; (void)leaky;
    return 0;
#endif
}

int gf_rmsprop_d(long n, double *x, const double *start, double *second, double inv, double h, double decay, double eps) {
#if GF_HAVE_W8
    if (gf_kernels_width() != 8) return 0;
    rmsprop_w8(n, x, start, second, inv, h, decay, eps);
    return 1;
#else
    (void)n; (void)x; (void)start; (void)second; (void)inv; (void)h; (void)decay; (void)eps;
    return 0;
#endif
}
