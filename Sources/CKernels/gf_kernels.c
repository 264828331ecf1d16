#include "gf_kernels.h"
#pragma clang diagnostic ignored "-Wpsabi"
#include <math.h>
#include <string.h>

/* Four doubles; aligned(8) so that any double pointer may be loaded and stored as one. */
typedef double v4d __attribute__((vector_size(32), aligned(8)));
typedef long long v4l __attribute__((vector_size(32), aligned(8)));

#define INLINE static inline __attribute__((always_inline))
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

INLINE v4d ld(const double *p) { return *(const v4d *)p; }
INLINE void st(double *p, v4d v) { *(v4d *)p = v; }
INLINE v4d splat(double x) { return (v4d){x, x, x, x}; }
INLINE v4d zero4(void) { return (v4d){0, 0, 0, 0}; }
INLINE long round4(long n) { return (n + 3) & ~3L; }
INLINE long maxl(long a, long b) { return a > b ? a : b; }

/* ---- activations ------------------------------------------------------------------------ */

INLINE double act_s(int act, double slope, double v) {
    switch (act) {
    case GF_RELU: return v > 0 ? v : 0;
    case GF_LEAKY: return v > 0 ? v : slope * v;
    case GF_TANH: return tanh(v);
    default: return v;
    }
}

/* σ′·v with σ′ read from m (see the header). */
INLINE double dmul_s(int act, double slope, double m, double v) {
    switch (act) {
    case GF_RELU: return m > 0 ? v : 0;
    case GF_LEAKY: return m > 0 ? v : slope * v;
    case GF_TANH: return (1 - m * m) * v;
    default: return v;
    }
}

/* Branch-free selects: a ReLU mask is random, so a branch per element mispredicts. */
INLINE v4d select_pos(v4d m, v4d ifPos, v4d ifNot) {
    v4l pos = m > 0;
    return (v4d)((pos & (v4l)ifPos) | (~pos & (v4l)ifNot));
}

INLINE v4d act_v(int act, double slope, v4d v) {
    switch (act) {
    case GF_RELU: return select_pos(v, v, zero4());
    case GF_LEAKY: return select_pos(v, v, v * slope);
    case GF_TANH: return (v4d){tanh(v[0]), tanh(v[1]), tanh(v[2]), tanh(v[3])};
    default: return v;
    }
}

INLINE v4d dmul_v(int act, double slope, v4d m, v4d v) {
    switch (act) {
    case GF_RELU: return select_pos(m, v, zero4());
    case GF_LEAKY: return select_pos(m, v, v * slope);
    case GF_TANH: return (1 - m * m) * v;
    default: return v;
    }
}

/* ACT = GF_ANY: the activation is read at run time from the epilogue (ReLU, the paper's and the
   default, gets its own compiled variants; the others share one). */
#define GF_ANY (-1)

typedef struct {
    int act;
    double slope;
    const double *rowScale;   /* NULL, or one factor per row applied to [bias +] X·B */
    const double *mask;
    double *out, *out2;
} epilogue_t;

/* Writes the epilogue of v for elements idx … idx+avail−1 (avail < 4: a partial vector).
   EPI and ACT are constants at every call site, so the switches fold away (ACT = GF_ANY keeps one). */
INLINE void finish(const int EPI, const int ACT, const epilogue_t e, v4d v, long idx, long avail) {
    if (avail >= 4) {
        switch (EPI) {
        case GF_EPI_ACTIVATE: st(e.out + idx, act_v(ACT == GF_ANY ? e.act : ACT, e.slope, v)); break;
        case GF_EPI_DERIV: st(e.out + idx, v); st(e.out2 + idx, dmul_v(ACT == GF_ANY ? e.act : ACT, e.slope, ld(e.mask + idx), v)); break;
        case GF_EPI_MASKED: st(e.out + idx, dmul_v(ACT == GF_ANY ? e.act : ACT, e.slope, ld(e.mask + idx), v)); break;
        default: st(e.out + idx, v);
        }
        return;
    }
    for (long c = 0; c < avail; c++) {
        double x = v[c];
        switch (EPI) {
        case GF_EPI_ACTIVATE: e.out[idx + c] = act_s(ACT == GF_ANY ? e.act : ACT, e.slope, x); break;
        case GF_EPI_DERIV: e.out[idx + c] = x; e.out2[idx + c] = dmul_s(ACT == GF_ANY ? e.act : ACT, e.slope, e.mask[idx + c], x); break;
        case GF_EPI_MASKED: e.out[idx + c] = dmul_s(ACT == GF_ANY ? e.act : ACT, e.slope, e.mask[idx + c], x); break;
        default: e.out[idx + c] = x;
        }
    }
}

INLINE v4d load_part(const double *p, long avail) {
    if (avail >= 4) return ld(p);
    v4d v = zero4();
    for (long c = 0; c < avail; c++) v[c] = p[c];
    return v;
}

/* ---- rows × matrix: out[r, :] = [out +] rowScale[r]·([bias +] Σ_k X[r, k]·B[k, :]) --------- */

/* A second product added after the row scaling (PAIR): X2 (M × K2) times B2 (K2 × ldb). */
typedef struct {
    long K;
    const double *X, *B;
} second_t;

/* RB rows (1…8) × NV vectors (1…4) of columns starting at c0; B is K × ldb, zero-padded.
   FULL: all NV vectors lie inside the N columns. PAIR: the second product continues in the
   same accumulators after the row scaling (the pair never accumulates into out). */
INLINE void rows_block(const int ACC, const int FULL, const int SCALED, const int EPI, const int ACT, const int PAIR, const int RB, const int NV, long K,
                       const double *X, long r0, const double *B, long ldb, long c0, long N, const double *biasp,
                       int accumulate, const second_t p2, const epilogue_t e) {
    v4d acc[8][4];
    _Pragma("unroll") for (int i = 0; i < RB; i++)
        _Pragma("unroll") for (int j = 0; j < NV; j++) {
            long col = c0 + 4 * j;
            v4d init = biasp ? ld(biasp + col) : zero4();
            acc[i][j] = (ACC < 0 ? accumulate : ACC) && !SCALED && !PAIR ? init + load_part(e.out + (r0 + i) * N + col, FULL ? 4 : N - col) : init;
        }
    const double *x = X + r0 * K;
    for (long k = 0; k < K; k++) {
        const double *b = B + k * ldb + c0;
        v4d bv[4];
        _Pragma("unroll") for (int j = 0; j < NV; j++) bv[j] = ld(b + 4 * j);
        _Pragma("unroll") for (int i = 0; i < RB; i++) {
            v4d s = splat(x[i * K + k]);
            _Pragma("unroll") for (int j = 0; j < NV; j++) acc[i][j] += s * bv[j];
        }
    }
    if (SCALED) {
        _Pragma("unroll") for (int i = 0; i < RB; i++) {
            v4d f = splat(e.rowScale[r0 + i]);
            _Pragma("unroll") for (int j = 0; j < NV; j++) {
                long col = c0 + 4 * j;
                acc[i][j] = (ACC < 0 ? accumulate : ACC) && !PAIR ? f * acc[i][j] + load_part(e.out + (r0 + i) * N + col, FULL ? 4 : N - col) : f * acc[i][j];
            }
        }
    }
    if (PAIR) {
        const double *x2 = p2.X + r0 * p2.K;
        for (long k = 0; k < p2.K; k++) {
            const double *b = p2.B + k * ldb + c0;
            v4d bv[4];
            _Pragma("unroll") for (int j = 0; j < NV; j++) bv[j] = ld(b + 4 * j);
            _Pragma("unroll") for (int i = 0; i < RB; i++) {
                v4d s = splat(x2[i * p2.K + k]);
                _Pragma("unroll") for (int j = 0; j < NV; j++) acc[i][j] += s * bv[j];
            }
        }
    }
    _Pragma("unroll") for (int i = 0; i < RB; i++)
        _Pragma("unroll") for (int j = 0; j < NV; j++) {
            long col = c0 + 4 * j;
            finish(EPI, ACT, e, acc[i][j], (r0 + i) * N + col, FULL ? 4 : N - col);
        }
}

/* 8 accumulators per block: enough independent FMA chains to cover the FMA latency. Blocks
   of whole vectors (FULL) skip the partial-vector checks; a vector beyond N is all padding
   (zero columns of B) and writes nothing. */
#define ROWS_ACC(ACC, FULL, NV, RB)                                                           \
    do {                                                                                      \
        long r = 0;                                                                           \
        for (; r + RB <= M; r += RB) rows_block(ACC, FULL, SCALED, EPI, ACT, PAIR, RB, NV, K, X, r, B, ldb, c0, N, biasp, accumulate, *p2, *e); \
        for (; r < M; r++) rows_block(ACC, FULL, SCALED, EPI, ACT, PAIR, 1, NV, K, X, r, B, ldb, c0, N, biasp, accumulate, *p2, *e); \
    } while (0)
#define ROWS(FULL, NV, RB) ROWS_ACC(-1, FULL, NV, RB)

INLINE void rows_times_body(const int SCALED, const int EPI, const int ACT, const int PAIR, long M, long K, long N, const double *X,
                            const double *B, long ldb, const double *biasp, int accumulate, const second_t *p2, const epilogue_t *e) {
    for (long c0 = 0; c0 < N; c0 += 16) {
        long width = N - c0 < 16 ? N - c0 : 16;
        if (width == 16 && accumulate) ROWS_ACC(1, 1, 4, 2);   /* the hot shape: no run-time flags */
        else if (width == 16) ROWS_ACC(0, 1, 4, 2);
        else if (width > 8) ROWS(0, 4, 2);
        else if (width > 4) ROWS(0, 2, 4);
        else ROWS(0, 1, 8);
    }
}

/* One specialised function per (row scaling, epilogue, activation, pair). */
#define ROWS_FN(NAME, SCALED, EPI, ACT, PAIR)                                                 \
    CLONES static void NAME(long M, long K, long N, const double *X, const double *B, long ldb, \
                            const double *biasp, int accumulate, const second_t *p2, const epilogue_t *e) { \
        rows_times_body(SCALED, EPI, ACT, PAIR, M, K, N, X, B, ldb, biasp, accumulate, p2, e); \
    }
#define ROWS_FOR_ACTS(PREFIX, SCALED, EPI, PAIR)                                              \
    ROWS_FN(PREFIX##_relu, SCALED, EPI, GF_RELU, PAIR)                                        \
    ROWS_FN(PREFIX##_any, SCALED, EPI, GF_ANY, PAIR)
ROWS_FN(rows_none, 0, GF_EPI_NONE, GF_LINEAR, 0)
ROWS_FOR_ACTS(rows_activate, 0, GF_EPI_ACTIVATE, 0)
ROWS_FOR_ACTS(rows_deriv, 0, GF_EPI_DERIV, 0)
ROWS_FOR_ACTS(rows_masked, 0, GF_EPI_MASKED, 0)
ROWS_FN(rows_none_s, 1, GF_EPI_NONE, GF_LINEAR, 0)
ROWS_FOR_ACTS(rows_activate_s, 1, GF_EPI_ACTIVATE, 0)
ROWS_FOR_ACTS(rows_deriv_s, 1, GF_EPI_DERIV, 0)
ROWS_FOR_ACTS(rows_masked_s, 1, GF_EPI_MASKED, 0)
/* Pairs (tangent passes: two products into one output). ReLU gets its own MASKED variants, the
   tangent passes' epilogue; the rest share the run-time activation. */
ROWS_FN(rows_none_p, 0, GF_EPI_NONE, GF_LINEAR, 1)
ROWS_FN(rows_none_sp, 1, GF_EPI_NONE, GF_LINEAR, 1)
ROWS_FN(rows_activate_p, 0, GF_EPI_ACTIVATE, GF_ANY, 1)
ROWS_FN(rows_activate_sp, 1, GF_EPI_ACTIVATE, GF_ANY, 1)
ROWS_FN(rows_deriv_p, 0, GF_EPI_DERIV, GF_ANY, 1)
ROWS_FN(rows_deriv_sp, 1, GF_EPI_DERIV, GF_ANY, 1)
ROWS_FOR_ACTS(rows_masked_p, 0, GF_EPI_MASKED, 1)
ROWS_FOR_ACTS(rows_masked_sp, 1, GF_EPI_MASKED, 1)

typedef void (*rows_fn)(long, long, long, const double *, const double *, long, const double *, int, const second_t *,
                        const epilogue_t *);

/* p2 = NULL: one product; otherwise the pair (then accumulate must be 0). */
static void rows_times(int epi, long M, long K, long N, const double *X, const double *B, long ldb,
                       const double *biasp, int accumulate, const second_t *p2, const epilogue_t *e) {
    static const rows_fn table[2][2][3][2] = {
        {{{rows_activate_relu, rows_activate_any}, {rows_deriv_relu, rows_deriv_any}, {rows_masked_relu, rows_masked_any}},
         {{rows_activate_s_relu, rows_activate_s_any}, {rows_deriv_s_relu, rows_deriv_s_any},
          {rows_masked_s_relu, rows_masked_s_any}}},
        {{{rows_activate_p, rows_activate_p}, {rows_deriv_p, rows_deriv_p}, {rows_masked_p_relu, rows_masked_p_any}},
         {{rows_activate_sp, rows_activate_sp}, {rows_deriv_sp, rows_deriv_sp}, {rows_masked_sp_relu, rows_masked_sp_any}}},
    };
    static const rows_fn plainFn[2][2] = {{rows_none, rows_none_s}, {rows_none_p, rows_none_sp}};
    static const second_t none = {0, NULL, NULL};
    int scaled = e->rowScale != NULL, pair = p2 != NULL;
    /* σ = identity: ACTIVATE and MASKED are plain stores. */
    int plain = epi < GF_EPI_ACTIVATE || epi > GF_EPI_MASKED || (e->act == GF_LINEAR && epi != GF_EPI_DERIV);
    rows_fn f = plain ? plainFn[pair][scaled] : table[pair][scaled][epi - GF_EPI_ACTIVATE][e->act == GF_RELU ? 0 : 1];
    f(M, K, N, X, B, ldb, biasp, accumulate, pair ? p2 : &none, e);
}

size_t gf_scratch_count(long a, long b) {
    long m = maxl(a, b);
    /* Two packed operands (a pair) with the bias row, plus alignment. */
    return (size_t)((2 * m + 1) * round4(m) + a * b + 16);
}

/* Packed operands start on a cache line: a 32-byte load across two lines costs two loads. */
INLINE double *align64(double *p) { return (double *)(((unsigned long)p + 63) & ~63UL); }

/* ---- one or two outputs per row: dot products along K --------------------------------------
   Vectorising over N wastes three quarters of every vector when N ≤ 2 (a GAN's logit or 2-D
   sample); here a block of rows runs down K in vectors, each X row read once for all N
   columns, and the rows' partial vectors then reduce together. Wr: N × K rows. */
INLINE double hsum(v4d v) { return (v[0] + v[2]) + (v[1] + v[3]); }

/* (hsum a, hsum b, hsum c, hsum d) in one vector, summed in hsum's order. */
INLINE v4d hsum4(v4d a, v4d b, v4d c, v4d d) {
    v4d t0 = __builtin_shufflevector(a, b, 0, 4, 1, 5) + __builtin_shufflevector(a, b, 2, 6, 3, 7);
    v4d t1 = __builtin_shufflevector(c, d, 0, 4, 1, 5) + __builtin_shufflevector(c, d, 2, 6, 3, 7);
    return __builtin_shufflevector(t0, t1, 0, 1, 4, 5) + __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
}

/* R rows (8 or 4, or 1 for the leftovers) × NC columns (N = 1 or 2; R·NC ≤ 8 chains). */
INLINE void dots_rows(const int R, const int NC, long r, long K, const double *X, const double *Wr, const double *bias,
                      int accumulate, int epi, const epilogue_t *e) {
    long K4 = K & ~3L;
    v4d acc[2][8];
    _Pragma("unroll") for (int c = 0; c < NC; c++)
        _Pragma("unroll") for (int i = 0; i < R; i++) acc[c][i] = zero4();
    for (long k = 0; k < K4; k += 4) {
        _Pragma("unroll") for (int c = 0; c < NC; c++) {
            v4d wv = ld(Wr + c * K + k);
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
            finish(epi, GF_ANY, *e, (v4d){v, 0, 0, 0}, r * NC + c, 1);
        }
        return;
    }
    /* Blocks of four rows: the sums of column c as one vector, then the epilogue on the
       outputs' own layout (for N = 2, rows' pairs interleaved), in the scalar path's order. */
    _Pragma("unroll") for (int i = 0; i < R; i += 4) {
        v4d sum[2];
        _Pragma("unroll") for (int c = 0; c < NC; c++) {
            sum[c] = hsum4(acc[c][i], acc[c][i + 1], acc[c][i + 2], acc[c][i + 3]);
            for (long k = K4; k < K; k++)
                _Pragma("unroll") for (int j = 0; j < 4; j++) sum[c][j] += X[(r + i + j) * K + k] * Wr[c * K + k];
        }
        v4d out[2], b[2], f[2];
        if (NC == 1) {
            out[0] = sum[0];
            b[0] = bias ? splat(bias[0]) : zero4();
            if (e->rowScale) f[0] = ld(e->rowScale + r + i);
        } else {
            out[0] = __builtin_shufflevector(sum[0], sum[1], 0, 4, 1, 5);
            out[1] = __builtin_shufflevector(sum[0], sum[1], 2, 6, 3, 7);
            b[0] = b[1] = bias ? (v4d){bias[0], bias[1], bias[0], bias[1]} : zero4();
            if (e->rowScale) {
                v4d s4 = ld(e->rowScale + r + i);
                f[0] = __builtin_shufflevector(s4, s4, 0, 0, 1, 1);
                f[1] = __builtin_shufflevector(s4, s4, 2, 2, 3, 3);
            }
        }
        _Pragma("unroll") for (int h = 0; h < NC; h++) {
            long idx = (r + i) * NC + 4 * h;
            v4d v = out[h];
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
                      int epi, const epilogue_t *e) {
    if (N == 1) DOTS(8, 1);
    else DOTS(4, 2);
}

CLONES static void dots(long M, long K, long N, const double *X, const double *Wr, const double *bias, int accumulate,
                        int epi, const epilogue_t *e) {
    dots_body(M, K, N, X, Wr, bias, accumulate, epi, e);
}

/* B = Wᵀ (K × ldb) with zero-padded columns, W: N × K. Returns the next free double. */
static double *pack_transposed(long K, long N, long ldb, const double *W, double *B) {
    for (long k = 0; k < K; k++) {
        for (long n = 0; n < N; n++) B[k * ldb + n] = W[n * K + k];
        for (long n = N; n < ldb; n++) B[k * ldb + n] = 0;
    }
    return B + K * ldb;
}

/* The bias padded to ldb at dst, or NULL without a bias. */
static const double *pack_bias(long N, long ldb, const double *bias, double *dst) {
    if (!bias) return NULL;
    for (long n = 0; n < ldb; n++) dst[n] = n < N ? bias[n] : 0;
    return dst;
}

/* One or two outputs over a long enough K: dot products along K (see dots). */
INLINE int uses_dots(long N, long K) { return N <= 2 && K >= 8; }

/* W (K × N) with its columns padded to ldb; W itself when ldb = N. */
static const double *pack_padded(long K, long N, long ldb, const double *W, double *B) {
    if (ldb == N) return W;
    for (long k = 0; k < K; k++) {
        for (long n = 0; n < N; n++) B[k * ldb + n] = W[k * N + n];
        for (long n = N; n < ldb; n++) B[k * ldb + n] = 0;
    }
    return B;
}

/* Multiply-adds of the products, per thread (a pair counts both products; bias, column sums and
   epilogues are not counted). One add per call: ~100 calls per GAN step. */
static _Thread_local long long madds;

long long gf_multiply_adds(void) { return madds; }

void gf_dense_nt(long M, long K, long N, const double *X, const double *W, const double *bias,
                 const double *rowScale, int accumulate, double *out, int epilogue, int activation,
                 double slope, const double *mask, double *out2, double *scratch) {
    madds += (long long)M * K * N;
    epilogue_t e = {activation, slope, rowScale, mask, out, out2};
    if (uses_dots(N, K)) { dots(M, K, N, X, W, bias, accumulate, epilogue, &e); return; }
    long ldb = round4(N);
    scratch = align64(scratch);
    const double *biasp = pack_bias(N, ldb, bias, pack_transposed(K, N, ldb, W, scratch));   /* the bias follows B */
    rows_times(epilogue, M, K, N, X, scratch, ldb, biasp, accumulate, NULL, &e);
}

void gf_dense_nt_pair(long M, long K, long N, const double *X, const double *W, const double *bias,
                      const double *rowScale, long K2, const double *X2, const double *W2, double *out, int epilogue,
                      int activation, double slope, const double *mask, double *out2, double *scratch) {
    if (uses_dots(N, K) || uses_dots(N, K2)) {
        /* The dot path: X2·W2ᵀ first, then the scaled product accumulates onto it. */
        gf_dense_nt(M, K2, N, X2, W2, NULL, NULL, 0, out, GF_EPI_NONE, activation, slope, NULL, NULL, scratch);
        gf_dense_nt(M, K, N, X, W, bias, rowScale, 1, out, epilogue, activation, slope, mask, out2, scratch);
        return;
    }
    madds += (long long)M * (K + K2) * N;
    epilogue_t e = {activation, slope, rowScale, mask, out, out2};
    long ldb = round4(N);
    scratch = align64(scratch);
    double *B2 = pack_transposed(K, N, ldb, W, scratch);
    const double *biasp = pack_bias(N, ldb, bias, pack_transposed(K2, N, ldb, W2, B2));
    second_t p2 = {K2, X2, B2};
    rows_times(epilogue, M, K, N, X, scratch, ldb, biasp, 0, &p2, &e);
}

void gf_dense_nn(long M, long K, long N, const double *X, const double *W,
                 const double *rowScale, int accumulate, double *out, int epilogue, int activation, double slope,
                 const double *mask, double *out2, double *scratch) {
    epilogue_t e = {activation, slope, rowScale, mask, out, out2};
    madds += (long long)M * K * N;
    scratch = align64(scratch);
    if (uses_dots(N, K)) {
        /* Wᵀ rows (N × K) for the dot path. */
        for (long n = 0; n < N; n++)
            for (long k = 0; k < K; k++) scratch[n * K + k] = W[k * N + n];
        dots(M, K, N, X, scratch, NULL, accumulate, epilogue, &e);
        return;
    }
    long ldb = round4(N);
    rows_times(epilogue, M, K, N, X, pack_padded(K, N, ldb, W, scratch), ldb, NULL, accumulate, NULL, &e);
}

void gf_dense_nn_pair(long M, long K, long N, const double *X, const double *W, const double *rowScale,
                      long K2, const double *X2, const double *W2, double *out, int epilogue, int activation,
                      double slope, const double *mask, double *out2, double *scratch) {
    if (uses_dots(N, K) || uses_dots(N, K2)) {
        gf_dense_nn(M, K2, N, X2, W2, NULL, 0, out, GF_EPI_NONE, activation, slope, NULL, NULL, scratch);
        gf_dense_nn(M, K, N, X, W, rowScale, 1, out, epilogue, activation, slope, mask, out2, scratch);
        return;
    }
    madds += (long long)M * (K + K2) * N;
    epilogue_t e = {activation, slope, rowScale, mask, out, out2};
    long ldb = round4(N);
    scratch = align64(scratch);
    const double *B = pack_padded(K, N, ldb, W, scratch);
    second_t p2 = {K2, X2, pack_padded(K2, N, ldb, W2, scratch + K * ldb)};
    rows_times(epilogue, M, K, N, X, B, ldb, NULL, 0, &p2, &e);
}

/* ---- transposed products: Out (P×Q) += scale·Uᵀ·V, U: M×P, V: M×Q ----------------------- */

/* PB rows of Out (1 or 2) × NV full vectors of its columns from q0. */
INLINE void tn_block(const int SU, const int SV, const int PB, const int NV, long M, const double *U, long P, long p0,
                     const double *V, long Q, long q0, const double *rs, double scale, double *Out) {
    v4d acc[2][4];
    _Pragma("unroll") for (int i = 0; i < PB; i++)
        _Pragma("unroll") for (int j = 0; j < NV; j++) acc[i][j] = zero4();
    for (long r = 0; r < M; r++) {
        const double *vr = V + r * Q + q0;
        v4d vv[4];
        _Pragma("unroll") for (int j = 0; j < NV; j++) vv[j] = SV ? rs[r] * ld(vr + 4 * j) : ld(vr + 4 * j);
        _Pragma("unroll") for (int i = 0; i < PB; i++) {
            double u = SU ? rs[r] * U[r * P + p0 + i] : U[r * P + p0 + i];
            v4d su = splat(u);
            _Pragma("unroll") for (int j = 0; j < NV; j++) acc[i][j] += su * vv[j];
        }
    }
    _Pragma("unroll") for (int i = 0; i < PB; i++) {
        _Pragma("unroll") for (int j = 0; j < NV; j++) {
            double *o = Out + (p0 + i) * Q + q0 + 4 * j;
            st(o, ld(o) + scale * acc[i][j]);
        }
    }
}

#define TN(NV)                                                                                \
    do {                                                                                      \
        long p = 0;                                                                           \
        for (; p + 2 <= P; p += 2) tn_block(SU, SV, 2, NV, m, Uc, P, p, Vc, Q, q0, rc, scale, Out); \
        if (p < P) tn_block(SU, SV, 1, NV, m, Uc, P, p, Vc, Q, q0, rc, scale, Out);          \
    } while (0)

/* SU / SV: rows of U / of V are scaled by rs (constants at each call site). */
INLINE void tn_body(const int SU, const int SV, long M, long P, long Q, const double *U, const double *V, const double *rs,
                    double scale, double *Out) {
    long Q4 = Q & ~3L;
    /* Rows in chunks whose V stays in L1 while every block of Out passes over it (streaming all
       of V from L2 once per block was bandwidth-bound). */
    long chunk = 2048 / (Q > 0 ? Q : 1);   /* 16 KB of V */
    if (chunk < 16) chunk = 16;
    for (long r0 = 0; r0 < M; r0 += chunk) {
        long m = M - r0 < chunk ? M - r0 : chunk;
        const double *Uc = U + r0 * P, *Vc = V + r0 * Q, *rc = rs ? rs + r0 : NULL;
        for (long q0 = 0; q0 < Q4; q0 += 16) {
            long width = Q4 - q0 < 16 ? Q4 - q0 : 16;
            switch (width / 4) {
            case 4: TN(4); break;
            case 3: TN(3); break;
            case 2: TN(2); break;
            default: TN(1); break;
            }
        }
    }
    if (Q4 == Q) return;
    for (long p = 0; p < P; p++) {
        double sums[3] = {0, 0, 0};
        for (long r = 0; r < M; r++) {
            double u = U[r * P + p] * (SU ? rs[r] : 1);
            for (long q = Q4; q < Q; q++) sums[q - Q4] += u * V[r * Q + q] * (SV ? rs[r] : 1);
        }
        for (long q = Q4; q < Q; q++) Out[p * Q + q] += scale * sums[q - Q4];
    }
}

CLONES static void tn_core(long M, long P, long Q, const double *U, const double *V, double scale, double *Out) {
    tn_body(0, 0, M, P, Q, U, V, NULL, scale, Out);
}
CLONES static void tn_core_su(long M, long P, long Q, const double *U, const double *V, const double *rs, double scale,
                              double *Out) {
    tn_body(1, 0, M, P, Q, U, V, rs, scale, Out);
}
CLONES static void tn_core_sv(long M, long P, long Q, const double *U, const double *V, const double *rs, double scale,
                              double *Out) {
    tn_body(0, 1, M, P, Q, U, V, rs, scale, Out);
}

/* out (N) += scale·Σ_rows s_r·D_r: 16 columns at a time with two rows per step, so eight
   vector sums run side by side (one sum per column is one long dependency chain). */
INLINE void column_sums_body(long M, long N, const double *D, const double *rs, double scale, double *out) {
    long N4 = N & ~3L;
    for (long c0 = 0; c0 < N4; c0 += 16) {
        long nv = (N4 - c0) / 4 < 4 ? (N4 - c0) / 4 : 4;
        v4d s0[4] = {zero4(), zero4(), zero4(), zero4()}, s1[4] = {zero4(), zero4(), zero4(), zero4()};
        long r = 0;
        for (; r + 2 <= M; r += 2) {
            double f0 = rs ? rs[r] : 1, f1 = rs ? rs[r + 1] : 1;
            for (long j = 0; j < nv; j++) {
                s0[j] += f0 * ld(D + r * N + c0 + 4 * j);
                s1[j] += f1 * ld(D + (r + 1) * N + c0 + 4 * j);
            }
        }
        for (; r < M; r++)
            for (long j = 0; j < nv; j++) s0[j] += (rs ? rs[r] : 1) * ld(D + r * N + c0 + 4 * j);
        for (long j = 0; j < nv; j++) st(out + c0 + 4 * j, ld(out + c0 + 4 * j) + scale * (s0[j] + s1[j]));
    }
    for (long c = N4; c < N; c++) {
        double s = 0;
        for (long r = 0; r < M; r++) s += D[r * N + c] * (rs ? rs[r] : 1);
        out[c] += scale * s;
    }
}

CLONES static void column_sums(long M, long N, const double *D, const double *rs, double scale, double *out) {
    column_sums_body(M, N, D, rs, scale, out);
}

void gf_dense_tn(long M, long N, long K, const double *D, const double *A, const double *rowScale,
                 double scale, double *G, double *gb, double *scratch) {
    madds += (long long)M * N * K;
    if ((K & 3) != 0 && (N & 3) == 0 && N > K) {
        /* Narrow inputs (e.g. a 2-D first layer): vectorise over N instead, Gᵀ in scratch. */
        scratch = align64(scratch);
        memset(scratch, 0, sizeof(double) * (size_t)(K * N));
        if (rowScale) tn_core_sv(M, K, N, A, D, rowScale, scale, scratch);
        else tn_core(M, K, N, A, D, scale, scratch);
        for (long n = 0; n < N; n++)
            for (long k = 0; k < K; k++) G[n * K + k] += scratch[k * N + n];
    } else if (rowScale) {
        tn_core_su(M, N, K, D, A, rowScale, scale, G);
    } else {
        tn_core(M, N, K, D, A, scale, G);
    }
    /* A separate vectorised pass: summing inside the product put a branch and a scalar
       dependency chain in its inner loop. */
    if (gb) column_sums(M, N, D, rowScale, scale, gb);
}

/* Twelve independent chains of 4-wide FMAs (enough to fill two FMA pipes of latency 4–6), for
   reading the kernels' speed against the machine's peak. Returns a value the caller should
   keep so the loop is not removed. */
INLINE double fma_probe_body(long iterations) {
    v4d a[12];
    v4d x = splat(1.0000001), y = splat(0.9999);
    for (int i = 0; i < 12; i++) a[i] = splat((double)i);
    for (long k = 0; k < iterations; k++)
        _Pragma("unroll") for (int i = 0; i < 12; i++) a[i] = a[i] * x + y;
    v4d s = zero4();
    for (int i = 0; i < 12; i++) s += a[i];
    return hsum(s);
}

CLONES static double fma_probe(long iterations) { return fma_probe_body(iterations); }

double gf_fma_probe(long iterations) { return fma_probe(iterations); }

int gf_kernels_vectorized(void) {
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("x86-64-v3") ? 1 : 0;
#else
    return 0;
#endif
}
