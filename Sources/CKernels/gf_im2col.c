/* im2col and its adjoint (col2im, a scatter-add) for one sample of a convolution, with AVX-512
   permutes: for each input row that a block of output positions reads, the row is loaded once
   into two vectors (its zero padding as masked-off lanes), and each kernel column's strided
   picks are one two-source permute and one masked store (im2col); col2im builds each input row
   in registers from every term that falls on it (two kernel columns per permute when s ≥ 2) and
   stores it once (loading and storing a row for each term stalled on the masked store ahead of
   the next load of that row). The element-wise loops (BilinearMaps.swift) pay a scalar load and
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

/* Lanes [lo, hi) of n (16 or 8) as a mask. */
INLINE uint32_t span(long lo, long hi, int n) {
    if (hi > n) hi = n;
    if (hi <= lo) return 0;
    return ((hi >= 32 ? 0xFFFFFFFFu : (1u << hi) - 1)) & ~(lo <= 0 ? 0u : (1u << lo) - 1);
}

/* float: 16 lanes, rows of up to 32 padded numbers. */
#define IC_T float
#define IC_V __m512
#define IC_M __mmask16
#define IC_L 16
#define IC_I int
#define IC_NAME(name) name##_f
#define IC_LOADZ _mm512_maskz_loadu_ps
#define IC_STOREM _mm512_mask_storeu_ps
#define IC_PERM2 _mm512_permutex2var_ps
#define IC_ADDM _mm512_mask_add_ps
#define IC_ZERO _mm512_setzero_ps
#define IC_SET1(j) _mm512_set1_epi32((int)(j))
#define IC_ADDI _mm512_add_epi32
#define IC_IOTA_TIMES(s) _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32((int)(s)))
#include "gf_im2col_body.h"
#undef IC_T
#undef IC_V
#undef IC_M
#undef IC_L
#undef IC_I
#undef IC_NAME
#undef IC_LOADZ
#undef IC_STOREM
#undef IC_PERM2
#undef IC_ADDM
#undef IC_ZERO
#undef IC_SET1
#undef IC_ADDI
#undef IC_IOTA_TIMES

/* double: 8 lanes, rows of up to 16 padded numbers. */
#define IC_T double
#define IC_V __m512d
#define IC_M __mmask8
#define IC_L 8
#define IC_I long long
#define IC_NAME(name) name##_d
#define IC_LOADZ _mm512_maskz_loadu_pd
#define IC_STOREM _mm512_mask_storeu_pd
#define IC_PERM2 _mm512_permutex2var_pd
#define IC_ADDM _mm512_mask_add_pd
#define IC_ZERO _mm512_setzero_pd
#define IC_SET1(j) _mm512_set1_epi64((long long)(j))
#define IC_ADDI _mm512_add_epi64
#define IC_IOTA_TIMES(s) _mm512_mullo_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), _mm512_set1_epi64((long long)(s)))
#include "gf_im2col_body.h"

#pragma clang attribute pop
#endif

/* Whether the vector versions take this shape (lanes per vector: 16 or 8). */
#define FITS(lanes) (W + 2 * p <= 2 * (lanes) && Wo <= (lanes))

int gf_im2col_f(const float *x, float *cols, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    GF_RUN_W8(FITS(16), im2col_f(x, cols, ld, C, H, W, k, s, p, Ho, Wo));
}

int gf_col2im_add_f(const float *cols, float *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    GF_RUN_W8(FITS(16), col2im_f(cols, x, ld, C, H, W, k, s, p, Ho, Wo));
}

int gf_im2col_d(const double *x, double *cols, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    GF_RUN_W8(FITS(8), im2col_d(x, cols, ld, C, H, W, k, s, p, Ho, Wo));
}

int gf_col2im_add_d(const double *cols, double *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo) {
    GF_RUN_W8(FITS(8), col2im_d(cols, x, ld, C, H, W, k, s, p, Ho, Wo));
}
