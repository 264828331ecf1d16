/* The 4-wide build of the kernels: an AVX2/FMA clone and a baseline clone of every entry point
   (target_clones; the loader picks the one the CPU supports), and the dot-product path for
   layers with one or two outputs, which every build uses. */
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define GF_TARGET __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GF_TARGET
#endif
#define GF_VW 4
#define GF_NAME(name) name##_w4
#include "gf_vector_body.h"

int gf_w4_is_avx2(void) {
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v3") ? 1 : 0;
#else
    return 0;
#endif
}

/* ---- one or two outputs per row: dot products along K --------------------------------------
   Vectorising over N wastes three quarters of every vector when N ≤ 2 (a GAN's logit or 2-D
   sample); here a block of rows runs down K in vectors, each X row read once for all N
   columns, and the rows' partial vectors then reduce together. Wr: N × K rows. */
INLINE double hsum(vd v) { return (v[0] + v[2]) + (v[1] + v[3]); }

/* (hsum a, hsum b, hsum c, hsum d) in one vector, summed in hsum's order. */
INLINE vd hsum4(vd a, vd b, vd c, vd d) {
    vd t0 = __builtin_shufflevector(a, b, 0, 4, 1, 5) + __builtin_shufflevector(a, b, 2, 6, 3, 7);
    vd t1 = __builtin_shufflevector(c, d, 0, 4, 1, 5) + __builtin_shufflevector(c, d, 2, 6, 3, 7);
    return __builtin_shufflevector(t0, t1, 0, 1, 4, 5) + __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
}

/* R rows (8 or 4, or 1 for the leftovers) × NC columns (N = 1 or 2; R·NC ≤ 8 chains). */
INLINE void dots_rows(const int R, const int NC, long r, long K, const double *X, const double *Wr, const double *bias,
                      int accumulate, int epi, const gf_epilogue_t *e) {
    long K4 = K & ~3L;
    vd acc[2][8];
    _Pragma("unroll") for (int c = 0; c < NC; c++)
        _Pragma("unroll") for (int i = 0; i < R; i++) acc[c][i] = zerov();
    for (long k = 0; k < K4; k += 4) {
        _Pragma("unroll") for (int c = 0; c < NC; c++) {
            vd wv = ld(Wr + c * K + k);
            _Pragma("unroll") for (int i = 0; i < R; i++) acc[c][i] += ld(X + (r + i) * K + k) * wv;
        }
    }
    if (R == 1) {
        _Pragma("unroll") for (int c = 0; c < NC; c++) {
            const double *x = X + r * K, *w = Wr + c * K;
            double v = hsum(acc[c][0]);
            for (long k = K4; k < K; k++) v += x[k] * w[k];
            if (bias) v += bias[c];
            if (e->rowScale) v *= e->rowScale[r];
            if (accumulate) v += e->out[r * NC + c];
            finish(epi, GF_ANY, *e, (vd){v, 0, 0, 0}, r * NC + c, 1);
        }
        return;
    }
    /* Blocks of four rows: the sums of column c as one vector, then the epilogue on the
       outputs' own layout (for N = 2, rows' pairs interleaved), in the scalar path's order. */
    _Pragma("unroll") for (int i = 0; i < R; i += 4) {
        vd sum[2];
        _Pragma("unroll") for (int c = 0; c < NC; c++) {
            sum[c] = hsum4(acc[c][i], acc[c][i + 1], acc[c][i + 2], acc[c][i + 3]);
            for (long k = K4; k < K; k++)
                _Pragma("unroll") for (int j = 0; j < 4; j++) sum[c][j] += X[(r + i + j) * K + k] * Wr[c * K + k];
        }
        vd out[2], b[2], f[2];
        if (NC == 1) {
            out[0] = sum[0];
            b[0] = bias ? splat(bias[0]) : zerov();
            if (e->rowScale) f[0] = ld(e->rowScale + r + i);
        } else {
            out[0] = __builtin_shufflevector(sum[0], sum[1], 0, 4, 1, 5);
            out[1] = __builtin_shufflevector(sum[0], sum[1], 2, 6, 3, 7);
            b[0] = b[1] = bias ? (vd){bias[0], bias[1], bias[0], bias[1]} : zerov();
            if (e->rowScale) {
                vd s4 = ld(e->rowScale + r + i);
                f[0] = __builtin_shufflevector(s4, s4, 0, 0, 1, 1);
                f[1] = __builtin_shufflevector(s4, s4, 2, 2, 3, 3);
            }
        }
        _Pragma("unroll") for (int h = 0; h < NC; h++) {
            long idx = (r + i) * NC + 4 * h;
            vd v = out[h];
            if (bias) v += b[h];
            if (e->rowScale) v *= f[h];
            if (accumulate) v += ld(e->out + idx);
            finish(epi, GF_ANY, *e, v, idx, 4);
        }
    }
}

#define DOTS(RB, NC)                                                                          \
    do {                                                                                      \
        long r = 0;                                                                           \
        for (; r + RB <= M; r += RB) dots_rows(RB, NC, r, K, X, Wr, bias, accumulate, epi, e); \
        for (; r < M; r++) dots_rows(1, NC, r, K, X, Wr, bias, accumulate, epi, e);           \
    } while (0)

INLINE void dots_body(long M, long K, long N, const double *X, const double *Wr, const double *bias, int accumulate,
                      int epi, const gf_epilogue_t *e) {
    if (N == 1) DOTS(8, 1);
    else DOTS(4, 2);
}

GF_TARGET static void dots(long M, long K, long N, const double *X, const double *Wr, const double *bias, int accumulate,
                           int epi, const gf_epilogue_t *e) {
    dots_body(M, K, N, X, Wr, bias, accumulate, epi, e);
}

void gf_dots_w4(long M, long K, long N, const double *X, const double *Wr, const double *bias, int accumulate, int epi,
                const gf_epilogue_t *e) {
    dots(M, K, N, X, Wr, bias, accumulate, epi, e);
}
