/* im2col and its adjoint (col2im, a scatter-add) for one sample of a convolution, with AVX-512
   permutes: for each input row that a block of output positions reads, the row is loaded once
   into two vectors (its zero padding as masked-off lanes), and each kernel column's strided
   picks are one two-source permute and one masked store (im2col), or one permute and one masked
   add into the row (col2im). The element-wise loops (BilinearMaps.swift) pay a scalar load and
   store per number; these pay about one vector operation per kernel column and output row.

   Exactness: im2col copies numbers; col2im adds into each input number the same terms in the same
   order as the element-wise loops (kernel row i, then kernel column j, ascending), so both give the
   loops' results to the bit. Shapes: a padded input row must fit two vectors (W + 2p ≤ 32 floats
   or 16 doubles) and an output row one (W_o ≤ 16 floats or 8 doubles); the calls return 0 for
   other shapes, on CPUs without AVX-512, and on threads that asked for the 4-wide kernels
   (gf_kernels_set_width), and the caller's loops run instead. */
#include "gf_internal.h"
#include <stdint.h>

#if GF_HAVE_W8
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("arch=x86-64-v4"))), apply_to = function)

#define INLINE static inline __attribute__((always_inline))

INLINE __mmask16 span16(long lo, long hi) {   /* lanes [lo, hi) of 16 */
    if (hi <= lo) return 0;
    uint32_t m = (hi >= 16 ? 0xFFFFu : ((1u << hi) - 1)) & ~((lo <= 0 ? 0u : (1u << lo) - 1));
    return (__mmask16)m;
}
INLINE __mmask8 span8(long lo, long hi) { return (__mmask8)(span16(lo, hi < 8 ? hi : 8) & 0xFF); }

/* ---- float: 16 lanes, rows of up to 32 padded numbers ------------------------------------- */

static void im2col_f(const float *x, float *cols, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i base = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)s));   /* ow·s */
    const __mmask16 out = span16(0, Wo), lo = span16(p, p + W), hi = span16(p - 16, p + W - 16);
    const __m512 zero = _mm512_setzero_ps();
    for (long c = 0; c < C; c++) {
        for (long i = 0; i < k; i++) {
            float *rows = cols + (c * k + i) * k * ld;   /* rows (c, i, 0 … k−1) */
            for (long oh = 0; oh < Ho; oh++) {
                long r = oh * s - p + i;
                if (r < 0 || r >= H) {
                    for (long j = 0; j < k; j++) _mm512_mask_storeu_ps(rows + j * ld + oh * Wo, out, zero);
                    continue;
                }
                const float *xr = x + (c * H + r) * W - p;   /* lane L holds x[r, L − p] */
                __m512 a = _mm512_maskz_loadu_ps(lo, xr), b = _mm512_maskz_loadu_ps(hi, xr + 16);
                for (long j = 0; j < k; j++) {
                    __m512i idx = _mm512_add_epi32(base, _mm512_set1_epi32((int)j));
                    _mm512_mask_storeu_ps(rows + j * ld + oh * Wo, out, _mm512_permutex2var_ps(a, idx, b));
                }
            }
        }
    }
}

static void col2im_f(const float *cols, float *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    const __mmask16 in = span16(0, Wo), lo = span16(p, p + W), hi = span16(p - 16, p + W - 16);
    /* Per kernel column j: lane L of the row takes output ow = (L − j)/s when L − j is a multiple
       of s in [0, (W_o − 1)s] (k ≤ 32: the row fits two vectors). */
    __m512i ia[32], ib[32];
    __mmask16 ma[32], mb[32];
    for (long j = 0; j < k; j++) {
        int idx[32];
        uint32_t hit = 0;
        for (int L = 0; L < 32; L++) {
            long t = L - j;
            int h = t >= 0 && t % s == 0 && t / s < Wo;
            idx[L] = h ? (int)(t / s) : 0;
            if (h) hit |= 1u << L;
        }
        ia[j] = _mm512_loadu_si512(idx);
        ib[j] = _mm512_loadu_si512(idx + 16);
        ma[j] = (__mmask16)(hit & 0xFFFF);
        mb[j] = (__mmask16)(hit >> 16);
    }
    for (long c = 0; c < C; c++) {
        for (long i = 0; i < k; i++) {
            const float *rows = cols + (c * k + i) * k * ld;
            for (long oh = 0; oh < Ho; oh++) {
                long r = oh * s - p + i;
                if (r < 0 || r >= H) continue;
                float *xr = x + (c * H + r) * W - p;
                __m512 a = _mm512_maskz_loadu_ps(lo, xr);
                if (!hi) {   /* the padded row fits one vector */
                    for (long j = 0; j < k; j++) {
                        __m512 g = _mm512_maskz_loadu_ps(in, rows + j * ld + oh * Wo);
                        a = _mm512_mask_add_ps(a, ma[j], a, _mm512_permutexvar_ps(ia[j], g));
                    }
                    _mm512_mask_storeu_ps(xr, lo, a);
                    continue;
                }
                __m512 b = _mm512_maskz_loadu_ps(hi, xr + 16);
                for (long j = 0; j < k; j++) {
                    __m512 g = _mm512_maskz_loadu_ps(in, rows + j * ld + oh * Wo);
                    a = _mm512_mask_add_ps(a, ma[j], a, _mm512_permutexvar_ps(ia[j], g));
                    b = _mm512_mask_add_ps(b, mb[j], b, _mm512_permutexvar_ps(ib[j], g));
                }
                _mm512_mask_storeu_ps(xr, lo, a);
                _mm512_mask_storeu_ps(xr + 16, hi, b);
            }
        }
    }
}

/* ---- double: 8 lanes, rows of up to 16 padded numbers -------------------------------------- */

static void im2col_d(const double *x, double *cols, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i base = _mm512_mullo_epi64(lane, _mm512_set1_epi64(s));
    const __mmask8 out = span8(0, Wo), lo = span8(p, p + W), hi = span8(p - 8, p + W - 8);
    const __m512d zero = _mm512_setzero_pd();
    for (long c = 0; c < C; c++) {
        for (long i = 0; i < k; i++) {
            double *rows = cols + (c * k + i) * k * ld;
            for (long oh = 0; oh < Ho; oh++) {
                long r = oh * s - p + i;
                if (r < 0 || r >= H) {
                    for (long j = 0; j < k; j++) _mm512_mask_storeu_pd(rows + j * ld + oh * Wo, out, zero);
                    continue;
                }
                const double *xr = x + (c * H + r) * W - p;
                __m512d a = _mm512_maskz_loadu_pd(lo, xr), b = _mm512_maskz_loadu_pd(hi, xr + 8);
                for (long j = 0; j < k; j++) {
                    __m512i idx = _mm512_add_epi64(base, _mm512_set1_epi64(j));
                    _mm512_mask_storeu_pd(rows + j * ld + oh * Wo, out, _mm512_permutex2var_pd(a, idx, b));
                }
            }
        }
    }
}

static void col2im_d(const double *cols, double *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    const __mmask8 in = span8(0, Wo), lo = span8(p, p + W), hi = span8(p - 8, p + W - 8);
    __m512i ia[16], ib[16];
    __mmask8 ma[16], mb[16];
    for (long j = 0; j < k; j++) {
        long long idx[16];
        uint32_t hit = 0;
        for (int L = 0; L < 16; L++) {
            long t = L - j;
            int h = t >= 0 && t % s == 0 && t / s < Wo;
            idx[L] = h ? t / s : 0;
            if (h) hit |= 1u << L;
        }
        ia[j] = _mm512_loadu_si512(idx);
        ib[j] = _mm512_loadu_si512(idx + 8);
        ma[j] = (__mmask8)(hit & 0xFF);
        mb[j] = (__mmask8)(hit >> 8);
    }
    for (long c = 0; c < C; c++) {
        for (long i = 0; i < k; i++) {
            const double *rows = cols + (c * k + i) * k * ld;
            for (long oh = 0; oh < Ho; oh++) {
                long r = oh * s - p + i;
                if (r < 0 || r >= H) continue;
                double *xr = x + (c * H + r) * W - p;
                __m512d a = _mm512_maskz_loadu_pd(lo, xr);
                if (!hi) {   /* the padded row fits one vector */
                    for (long j = 0; j < k; j++) {
                        __m512d g = _mm512_maskz_loadu_pd(in, rows + j * ld + oh * Wo);
                        a = _mm512_mask_add_pd(a, ma[j], a, _mm512_permutexvar_pd(ia[j], g));
                    }
                    _mm512_mask_storeu_pd(xr, lo, a);
                    continue;
                }
                __m512d b = _mm512_maskz_loadu_pd(hi, xr + 8);
                for (long j = 0; j < k; j++) {
                    __m512d g = _mm512_maskz_loadu_pd(in, rows + j * ld + oh * Wo);
                    a = _mm512_mask_add_pd(a, ma[j], a, _mm512_permutexvar_pd(ia[j], g));
                    b = _mm512_mask_add_pd(b, mb[j], b, _mm512_permutexvar_pd(ib[j], g));
                }
                _mm512_mask_storeu_pd(xr, lo, a);
                _mm512_mask_storeu_pd(xr + 8, hi, b);
            }
        }
    }
}

#pragma clang attribute pop
#endif

/* Whether the vector versions take this shape on this thread (lanes per vector: 16 or 8). */
static int handled(long lanes, long W, long p, long Wo) {
#if GF_HAVE_W8
    return gf_kernels_width() == 8 && W + 2 * p <= 2 * lanes && Wo <= lanes;
#else
    (void)lanes; (void)W; (void)p; (void)Wo;
    return 0;
#endif
}

int gf_im2col_f(const float *x, float *cols, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    if (!handled(16, W, p, Wo)) return 0;
#if GF_HAVE_W8
    im2col_f(x, cols, ld, C, H, W, k, s, p, Ho, Wo);
#endif
    return 1;
}

int gf_col2im_add_f(const float *cols, float *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    if (!handled(16, W, p, Wo)) return 0;
#if GF_HAVE_W8
    col2im_f(cols, x, ld, C, H, W, k, s, p, Ho, Wo);
#endif
    return 1;
}

int gf_im2col_d(const double *x, double *cols, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    if (!handled(8, W, p, Wo)) return 0;
#if GF_HAVE_W8
    im2col_d(x, cols, ld, C, H, W, k, s, p, Ho, Wo);
#endif
    return 1;
}

int gf_col2im_add_d(const double *cols, double *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    if (!handled(8, W, p, Wo)) return 0;
#if GF_HAVE_W8
    col2im_d(cols, x, ld, C, H, W, k, s, p, Ho, Wo);
#endif
    return 1;
}
