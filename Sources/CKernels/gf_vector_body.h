/*
 * The dense kernels, written once for a number type GF_T and a vector width GF_VW (numbers per
 * vector) and included by gf_kernels_w4.c and gf_kernels_w8.c (double: 4 and 8 wide) and
 * gf_kernels_f8.c and gf_kernels_f16.c (float: 8 and 16 wide). Before including, define GF_VW,
 * GF_NAME(name) (the build's name for an exported function) and GF_TARGET (attributes of the
 * compiled entry points: target_clones for the 256-bit builds; empty for the 512-bit ones, whose
 * files set their target); for float also GF_FLOAT 1 (GF_T, GF_MASK_T, GF_EPILOGUE, GF_SECOND
 * and GF_WIDE follow from it).
 *
 * The rule that keeps the builds bit-identical (see gf_internal.h): a lane holds one output
 * element, and what happens to it — its start value, the order of its multiply-adds, the row
 * scaling, the second product, the epilogue — never depends on GF_VW or on how rows and columns
 * are blocked. Columns beyond a multiple of 4 take the same scalar path in every build.
 */
#include "gf_internal.h"
#include <math.h>

#ifndef GF_FLOAT
#define GF_FLOAT 0
#endif
#if GF_FLOAT
#define GF_T float
#define GF_MASK_T int
#define GF_EPILOGUE gf_epilogue_f_t
#define GF_SECOND gf_second_f_t
#else
#define GF_T double
#define GF_MASK_T long long
#define GF_EPILOGUE gf_epilogue_t
#define GF_SECOND gf_second_t
#endif
/* 512-bit vectors (the AVX-512 builds). */
#define GF_WIDE (GF_VW * (GF_FLOAT ? 4 : 8) == 64)
#include <stdint.h>
#include <string.h>

#pragma clang diagnostic ignored "-Wpsabi"

/* GF_VW numbers; aligned to one number so that any GF_T pointer may be loaded and stored as one. */
typedef GF_T vd __attribute__((vector_size(sizeof(GF_T) * GF_VW), aligned(sizeof(GF_T))));
typedef GF_MASK_T vl __attribute__((vector_size(sizeof(GF_T) * GF_VW), aligned(sizeof(GF_T))));

#define INLINE static inline __attribute__((always_inline))

INLINE vd ld(const GF_T *p) { return *(const vd *)p; }
INLINE void st(GF_T *p, vd v) { *(vd *)p = v; }
INLINE vd splat(GF_T x) {
    vd v;
    _Pragma("unroll") for (int c = 0; c < GF_VW; c++) v[c] = x;
    return v;
}
INLINE vd zerov(void) { return (vd){0}; }

/* ---- activations ------------------------------------------------------------------------ */

INLINE GF_T act_s(int act, GF_T slope, GF_T v) {
    switch (act) {
    case GF_RELU: return v > 0 ? v : 0;
    case GF_LEAKY: return v > 0 ? v : slope * v;
    case GF_TANH: return tanh(v);
    default: return v;
    }
}

/* σ′·v with σ′ read from m (see gf_kernels.h). */
INLINE GF_T dmul_s(int act, GF_T slope, GF_T m, GF_T v) {
    switch (act) {
    case GF_RELU: return m > 0 ? v : 0;
    case GF_LEAKY: return m > 0 ? v : slope * v;
    case GF_TANH: return (1 - m * m) * v;
    default: return v;
    }
}

/* Branch-free selects: a ReLU mask is random, so a branch per element mispredicts. */
INLINE vd select_pos(vd m, vd ifPos, vd ifNot) {
    vl pos = m > 0;
    return (vd)((pos & (vl)ifPos) | (~pos & (vl)ifNot));
}

INLINE vd act_v(int act, GF_T slope, vd v) {
    switch (act) {
    case GF_RELU: return select_pos(v, v, zerov());
    case GF_LEAKY: return select_pos(v, v, v * slope);
    case GF_TANH:
        _Pragma("unroll") for (int c = 0; c < GF_VW; c++) v[c] = tanh(v[c]);
        return v;
    default: return v;
    }
}

INLINE vd dmul_v(int act, GF_T slope, vd m, vd v) {
    switch (act) {
    case GF_RELU: return select_pos(m, v, zerov());
    case GF_LEAKY: return select_pos(m, v, v * slope);
    case GF_TANH: return (1 - m * m) * v;
    default: return v;
    }
}

/* Writes the epilogue of v for elements idx … idx+avail−1 (avail < GF_VW: a partial vector).
   EPI and ACT are constants at every call site, so the switches fold away (ACT = GF_ANY keeps one). */
INLINE void finish(const int EPI, const int ACT, const GF_EPILOGUE e, vd v, long idx, long avail) {
    if (avail >= GF_VW) {
        switch (EPI) {
        case GF_EPI_ACTIVATE: st(e.out + idx, act_v(ACT == GF_ANY ? e.act : ACT, e.slope, v)); break;
        case GF_EPI_DERIV: st(e.out + idx, v); st(e.out2 + idx, dmul_v(ACT == GF_ANY ? e.act : ACT, e.slope, ld(e.mask + idx), v)); break;
        case GF_EPI_MASKED: st(e.out + idx, dmul_v(ACT == GF_ANY ? e.act : ACT, e.slope, ld(e.mask + idx), v)); break;
        default: st(e.out + idx, v);
        }
        return;
    }
    for (long c = 0; c < avail; c++) {
        GF_T x = v[c];
        switch (EPI) {
        case GF_EPI_ACTIVATE: e.out[idx + c] = act_s(ACT == GF_ANY ? e.act : ACT, e.slope, x); break;
        case GF_EPI_DERIV: e.out[idx + c] = x; e.out2[idx + c] = dmul_s(ACT == GF_ANY ? e.act : ACT, e.slope, e.mask[idx + c], x); break;
        case GF_EPI_MASKED: e.out[idx + c] = dmul_s(ACT == GF_ANY ? e.act : ACT, e.slope, e.mask[idx + c], x); break;
        default: e.out[idx + c] = x;
        }
    }
}

INLINE vd load_part(const GF_T *p, long avail) {
    if (avail >= GF_VW) return ld(p);
    vd v = zerov();
    for (long c = 0; c < avail; c++) v[c] = p[c];
    return v;
}

INLINE void store_part(GF_T *p, vd v, long avail) {
    if (avail >= GF_VW) { st(p, v); return; }
    for (long c = 0; c < avail; c++) p[c] = v[c];
}

/* ---- rows × matrix: out[r, :] = [out +] rowScale[r]·([bias +] Σ_k X[r, k]·B[k, :]) --------- */

/* RB rows (1…14) × NV vectors (1…4) of columns starting at c0; B is K × ldb, zero-padded.
   FULL: all NV vectors lie inside the N columns. PAIR: the second product continues in the
   same accumulators after the row scaling (the pair never accumulates into out). */
INLINE void rows_block(const int ACC, const int FULL, const int SCALED, const int EPI, const int ACT, const int PAIR, const int RB, const int NV, long K,
                       const GF_T *X, long r0, const GF_T *B, long ldb, long c0, long N, const GF_T *biasp,
                       int accumulate, const GF_SECOND p2, const GF_EPILOGUE e) {
    vd acc[14][4];
    _Pragma("unroll") for (int i = 0; i < RB; i++)
        _Pragma("unroll") for (int j = 0; j < NV; j++) {
            long col = c0 + GF_VW * j;
            vd init = biasp ? ld(biasp + col) : zerov();
            acc[i][j] = (ACC < 0 ? accumulate : ACC) && !SCALED && !PAIR ? init + load_part(e.out + (r0 + i) * N + col, FULL ? GF_VW : N - col) : init;
        }
    const GF_T *x = X + r0 * K;
    for (long k = 0; k < K; k++) {
        const GF_T *b = B + k * ldb + c0;
        vd bv[4];
        _Pragma("unroll") for (int j = 0; j < NV; j++) bv[j] = ld(b + GF_VW * j);
        _Pragma("unroll") for (int i = 0; i < RB; i++) {
            vd s = splat(x[i * K + k]);
            _Pragma("unroll") for (int j = 0; j < NV; j++) acc[i][j] += s * bv[j];
        }
    }
    if (SCALED) {
        _Pragma("unroll") for (int i = 0; i < RB; i++) {
            vd f = splat(e.rowScale[r0 + i]);
            _Pragma("unroll") for (int j = 0; j < NV; j++) {
                long col = c0 + GF_VW * j;
                acc[i][j] = (ACC < 0 ? accumulate : ACC) && !PAIR ? f * acc[i][j] + load_part(e.out + (r0 + i) * N + col, FULL ? GF_VW : N - col) : f * acc[i][j];
            }
        }
    }
    if (PAIR) {
        const GF_T *x2 = p2.X + r0 * p2.K;
        for (long k = 0; k < p2.K; k++) {
            const GF_T *b = p2.B + k * ldb + c0;
            vd bv[4];
            _Pragma("unroll") for (int j = 0; j < NV; j++) bv[j] = ld(b + GF_VW * j);
            _Pragma("unroll") for (int i = 0; i < RB; i++) {
                vd s = splat(x2[i * p2.K + k]);
                _Pragma("unroll") for (int j = 0; j < NV; j++) acc[i][j] += s * bv[j];
            }
        }
    }
    _Pragma("unroll") for (int i = 0; i < RB; i++)
        _Pragma("unroll") for (int j = 0; j < NV; j++) {
            long col = c0 + GF_VW * j;
            finish(EPI, ACT, e, acc[i][j], (r0 + i) * N + col, FULL ? GF_VW : N - col);
        }
}

/* Blocks of RB rows × NV vectors: enough independent FMA chains (RB·NV accumulators) to cover
   the FMA latency; the rows left over go in blocks of TAIL (4 when RB > 4), then one by one.
   Blocks of whole vectors (FULL) skip the partial-vector checks; a vector beyond N is all
   padding (zero columns of B) and writes nothing. */
#define ROWS_ACC(ACC, FULL, NV, RB)                                                           \
    do {                                                                                      \
        const int TAIL = RB > 4 ? 4 : 1;                                                      \
        long r = 0;                                                                           \
        for (; r + RB <= M; r += RB) rows_block(ACC, FULL, SCALED, EPI, ACT, PAIR, RB, NV, K, X, r, B, ldb, c0, N, biasp, accumulate, *p2, *e); \
        for (; r + TAIL <= M; r += TAIL) rows_block(ACC, FULL, SCALED, EPI, ACT, PAIR, TAIL, NV, K, X, r, B, ldb, c0, N, biasp, accumulate, *p2, *e); \
        for (; r < M; r++) rows_block(ACC, FULL, SCALED, EPI, ACT, PAIR, 1, NV, K, X, r, B, ldb, c0, N, biasp, accumulate, *p2, *e); \
    } while (0)
#define ROWS(FULL, NV, RB) ROWS_ACC(-1, FULL, NV, RB)

/* Columns in chunks of 16 (4 vectors of 4, or 2 of 8). */
INLINE void rows_times_body(const int SCALED, const int EPI, const int ACT, const int PAIR, long M, long K, long N, const GF_T *X,
                            const GF_T *B, long ldb, const GF_T *biasp, int accumulate, const GF_SECOND *p2, const GF_EPILOGUE *e) {
    for (long c0 = 0; c0 < N; c0 += 16) {
        long width = N - c0 < 16 ? N - c0 : 16;
#if GF_FLOAT && GF_WIDE
        /* One vector of 16 floats per 16 columns: 14 rows give 14 accumulators. */
        if (width == 16 && accumulate) ROWS_ACC(1, 1, 1, 14);
        else if (width == 16) ROWS_ACC(0, 1, 1, 14);
        else ROWS(0, 1, 14);
#elif GF_FLOAT
        /* Two vectors of 8 floats per 16 columns, 16 registers: 12 accumulators. */
        if (width == 16 && accumulate) ROWS_ACC(1, 1, 2, 6);
        else if (width == 16) ROWS_ACC(0, 1, 2, 6);
        else if (width > 8) ROWS(0, 2, 6);
        else ROWS(0, 1, 8);
#elif GF_VW == 4
        if (width == 16 && accumulate) ROWS_ACC(1, 1, 4, 2);   /* the hot shape: no run-time flags */
        else if (width == 16) ROWS_ACC(0, 1, 4, 2);
        else if (width > 8) ROWS(0, 4, 2);
        else if (width > 4) ROWS(0, 2, 4);
        else ROWS(0, 1, 8);
#else
        /* 28 accumulators, 2 vectors of B and a broadcast: 31 of the 32 registers. 14 rows per
           block instead of 8 took 7–10 % off the 16-wide kernels (gameflow-bench kernels). */
        if (width == 16 && accumulate) ROWS_ACC(1, 1, 2, 14);
        else if (width == 16) ROWS_ACC(0, 1, 2, 14);
        else if (width > 8) ROWS(0, 2, 8);
        else ROWS(0, 1, 8);
#endif
    }
}

/* One specialised function per (row scaling, epilogue, activation, pair). */
#define ROWS_FN(NAME, SCALED, EPI, ACT, PAIR)                                                 \
    GF_TARGET static void NAME(long M, long K, long N, const GF_T *X, const GF_T *B, long ldb, \
                               const GF_T *biasp, int accumulate, const GF_SECOND *p2, const GF_EPILOGUE *e) { \
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

typedef void (*rows_fn)(long, long, long, const GF_T *, const GF_T *, long, const GF_T *, int, const GF_SECOND *,
                        const GF_EPILOGUE *);

void GF_NAME(gf_rows_times)(int epi, long M, long K, long N, const GF_T *X, const GF_T *B, long ldb,
                            const GF_T *biasp, int accumulate, const GF_SECOND *p2, const GF_EPILOGUE *e) {
    static const rows_fn table[2][2][3][2] = {
        {{{rows_activate_relu, rows_activate_any}, {rows_deriv_relu, rows_deriv_any}, {rows_masked_relu, rows_masked_any}},
         {{rows_activate_s_relu, rows_activate_s_any}, {rows_deriv_s_relu, rows_deriv_s_any},
          {rows_masked_s_relu, rows_masked_s_any}}},
        {{{rows_activate_p, rows_activate_p}, {rows_deriv_p, rows_deriv_p}, {rows_masked_p_relu, rows_masked_p_any}},
         {{rows_activate_sp, rows_activate_sp}, {rows_deriv_sp, rows_deriv_sp}, {rows_masked_sp_relu, rows_masked_sp_any}}},
    };
    static const rows_fn plainFn[2][2] = {{rows_none, rows_none_s}, {rows_none_p, rows_none_sp}};
    static const GF_SECOND none = {0, NULL, NULL};
    int scaled = e->rowScale != NULL, pair = p2 != NULL;
    /* σ = identity: ACTIVATE and MASKED are plain stores. */
    int plain = epi < GF_EPI_ACTIVATE || epi > GF_EPI_MASKED || (e->act == GF_LINEAR && epi != GF_EPI_DERIV);
    rows_fn f = plain ? plainFn[pair][scaled] : table[pair][scaled][epi - GF_EPI_ACTIVATE][e->act == GF_RELU ? 0 : 1];
    f(M, K, N, X, B, ldb, biasp, accumulate, pair ? p2 : &none, e);
}

/* ---- transposed products: Out (P×Q) += scale·Uᵀ·V, U: M×P, V: M×Q ----------------------- */

enum { TN_AHEAD = 16 };   /* rows */

/* Prefetches p + i (in numbers). The address is formed as an integer: it may lie past the end
   of the array, where a prefetch does nothing but pointer arithmetic would be undefined. */
INLINE void prefetch_at(const GF_T *p, long i) {
    __builtin_prefetch((const void *)((uintptr_t)p + (uintptr_t)i * sizeof(GF_T)));
}

/* PB rows of Out (1…8) × NV vectors of its columns from q0, of which the last holds `last`
   columns (WHOLE: all NV vectors are whole, last = GF_VW). */
INLINE void tn_block(const int SU, const int SV, const int WHOLE, const int PB, const int NV, long M, const GF_T *U, long P,
                     long p0, const GF_T *V, long Q, long q0, long last, const GF_T *rs, GF_T scale, GF_T *Out) {
    vd acc[8][4];
    _Pragma("unroll") for (int i = 0; i < PB; i++)
        _Pragma("unroll") for (int j = 0; j < NV; j++) acc[i][j] = zerov();
    for (long r = 0; r < M; r++) {
        const GF_T *vr = V + r * Q + q0;
        /* Fetch rows TN_AHEAD ahead: on the first block of a chunk, U and V come from L2 or L3,
           and the hardware prefetchers alone left this loop waiting (−21 % time at M = 512).
           Only the first block to touch a line fetches it: two lines of V (16 columns) on the
           block with p0 = 0, and the line of U from p0 on blocks where p0 is a multiple of 8.
           8-wide build only: the 4-wide one (PB = 2) timed 9 % slower with it on Ice Lake. */
#if GF_WIDE
        if (p0 == 0) {
            prefetch_at(vr, TN_AHEAD * Q);
            prefetch_at(vr, TN_AHEAD * Q + 8);
        }
        if (p0 % (64 / sizeof(GF_T)) == 0) prefetch_at(U, (r + TN_AHEAD) * P + p0);
#endif
        vd vv[4];
        _Pragma("unroll") for (int j = 0; j < NV; j++) {
            vd x = !WHOLE && j == NV - 1 ? load_part(vr + GF_VW * j, last) : ld(vr + GF_VW * j);
            vv[j] = SV ? rs[r] * x : x;
        }
        /* Row-scaled U with PB = GF_VW: one vector multiply for the block's PB values instead of
           PB scalar ones (−9 % for the row-scaled tn in gameflow-bench kernels); the same
           products either way. (Forcing broadcasts from memory instead of the compiler's lane
           permutes was 32 % slower: store forwarding.) */
        GF_T scaled[GF_VW] __attribute__((aligned(64)));
        if (SU && PB == GF_VW) st(scaled, splat(rs[r]) * ld(U + r * P + p0));
        _Pragma("unroll") for (int i = 0; i < PB; i++) {
            GF_T u = SU ? (PB == GF_VW ? scaled[i] : rs[r] * U[r * P + p0 + i]) : U[r * P + p0 + i];
            vd su = splat(u);
            _Pragma("unroll") for (int j = 0; j < NV; j++) acc[i][j] += su * vv[j];
        }
    }
    _Pragma("unroll") for (int i = 0; i < PB; i++) {
        _Pragma("unroll") for (int j = 0; j < NV; j++) {
            GF_T *o = Out + (p0 + i) * Q + q0 + GF_VW * j;
            long avail = !WHOLE && j == NV - 1 ? last : GF_VW;
            store_part(o, load_part(o, avail) + scale * acc[i][j], avail);
        }
    }
}

#define TN_W(WHOLE, NV, PB)                                                                   \
    do {                                                                                      \
        long p = 0;                                                                           \
        for (; p + PB <= P; p += PB) tn_block(SU, SV, WHOLE, PB, NV, m, Uc, P, p, Vc, Q, q0, last, rc, scale, Out); \
        for (; p < P; p++) tn_block(SU, SV, WHOLE, 1, NV, m, Uc, P, p, Vc, Q, q0, last, rc, scale, Out); \
    } while (0)
#define TN(NV, PB)                                                                            \
    do {                                                                                      \
        if (last == GF_VW) TN_W(1, NV, PB);                                                   \
        else TN_W(0, NV, PB);                                                                 \
    } while (0)

/* SU / SV: rows of U / of V are scaled by rs (constants at each call site). Columns up to the
   last multiple of 4 (Q4) run in vectors, the rest (1–3) in the scalar loop below. */
INLINE void tn_body(const int SU, const int SV, long M, long P, long Q, const GF_T *U, const GF_T *V, const GF_T *rs,
                    GF_T scale, GF_T *Out) {
    long Q4 = Q & ~3L;
    /* Rows in chunks whose V stays in L1 while every block of Out passes over it (streaming all
       of V from L2 once per block was bandwidth-bound). */
    long chunk = 2048 / (Q > 0 ? Q : 1);   /* 16 KB of V */
    if (chunk < 16) chunk = 16;
    for (long r0 = 0; r0 < M; r0 += chunk) {
        long m = M - r0 < chunk ? M - r0 : chunk;
        const GF_T *Uc = U + r0 * P, *Vc = V + r0 * Q, *rc = rs ? rs + r0 : NULL;
        for (long q0 = 0; q0 < Q4; q0 += 16) {
            long width = Q4 - q0 < 16 ? Q4 - q0 : 16;
            long nv = (width + GF_VW - 1) / GF_VW, last = width - GF_VW * (nv - 1);
#if GF_FLOAT && !GF_WIDE
            if (nv == 2) TN(2, 4);   /* 16 registers */
            else TN(1, 8);
#elif GF_VW == 4
            switch (nv) {
            case 4: TN(4, 2); break;
            case 3: TN(3, 2); break;
            case 2: TN(2, 4); break;
            default: TN(1, 8); break;
            }
#else
            if (nv == 2) TN(2, 8);
            else TN(1, 8);
#endif
        }
    }
    if (Q4 == Q) return;
    for (long p = 0; p < P; p++) {
        GF_T sums[3] = {0, 0, 0};
        for (long r = 0; r < M; r++) {
            GF_T u = U[r * P + p] * (SU ? rs[r] : 1);
            for (long q = Q4; q < Q; q++) sums[q - Q4] += u * V[r * Q + q] * (SV ? rs[r] : 1);
        }
        for (long q = Q4; q < Q; q++) Out[p * Q + q] += scale * sums[q - Q4];
    }
}

GF_TARGET static void tn_core(long M, long P, long Q, const GF_T *U, const GF_T *V, GF_T scale, GF_T *Out) {
    tn_body(0, 0, M, P, Q, U, V, NULL, scale, Out);
}
GF_TARGET static void tn_core_su(long M, long P, long Q, const GF_T *U, const GF_T *V, const GF_T *rs, GF_T scale,
                                 GF_T *Out) {
    tn_body(1, 0, M, P, Q, U, V, rs, scale, Out);
}
GF_TARGET static void tn_core_sv(long M, long P, long Q, const GF_T *U, const GF_T *V, const GF_T *rs, GF_T scale,
                                 GF_T *Out) {
    tn_body(0, 1, M, P, Q, U, V, rs, scale, Out);
}

void GF_NAME(gf_tn)(int su, int sv, long M, long P, long Q, const GF_T *U, const GF_T *V, const GF_T *rs, GF_T scale,
                    GF_T *Out) {
    if (su) tn_core_su(M, P, Q, U, V, rs, scale, Out);
    else if (sv) tn_core_sv(M, P, Q, U, V, rs, scale, Out);
    else tn_core(M, P, Q, U, V, scale, Out);
}

/* out (N) += scale·Σ_rows s_r·D_r: 16 columns at a time with two rows per step, so that
   2·16/GF_VW vector sums run side by side (one sum per column is one long dependency chain).
   Columns up to the last multiple of 4 in vectors, the rest in the scalar loop. */

/* One chunk of NV vectors of columns from c0, the sums of even rows and of odd rows apart (NV a
   constant: the sums stay in registers). WHOLE: every vector is whole; otherwise the last holds
   `last` columns (8-wide only: 4). */
INLINE void column_sums_block(const int NV, const int WHOLE, long M, long N, long c0, long last, const GF_T *D,
                              const GF_T *rs, GF_T scale, GF_T *out) {
    vd s0[4], s1[4];
    _Pragma("unroll") for (int j = 0; j < NV; j++) s0[j] = s1[j] = zerov();
#define GF_ROW(r, j) (WHOLE || (j) < NV - 1 ? ld(D + (r) * N + c0 + GF_VW * (j)) : load_part(D + (r) * N + c0 + GF_VW * (j), last))
    long r = 0;
    for (; r + 2 <= M; r += 2) {
        GF_T f0 = rs ? rs[r] : 1, f1 = rs ? rs[r + 1] : 1;
        _Pragma("unroll") for (int j = 0; j < NV; j++) {
            s0[j] += f0 * GF_ROW(r, j);
            s1[j] += f1 * GF_ROW(r + 1, j);
        }
    }
    for (; r < M; r++)
        _Pragma("unroll") for (int j = 0; j < NV; j++) s0[j] += (rs ? rs[r] : 1) * GF_ROW(r, j);
#undef GF_ROW
    _Pragma("unroll") for (int j = 0; j < NV; j++) {
        long avail = WHOLE || j < NV - 1 ? GF_VW : last;
        GF_T *o = out + c0 + GF_VW * j;
        store_part(o, load_part(o, avail) + scale * (s0[j] + s1[j]), avail);
    }
}

INLINE void column_sums_body(long M, long N, const GF_T *D, const GF_T *rs, GF_T scale, GF_T *out) {
    long N4 = N & ~3L;
    for (long c0 = 0; c0 < N4; c0 += 16) {
        long width = N4 - c0 < 16 ? N4 - c0 : 16;
        long nv = (width + GF_VW - 1) / GF_VW, last = width - GF_VW * (nv - 1);
        if (last == GF_VW) {
            switch (nv) {
            case 4: column_sums_block(4, 1, M, N, c0, last, D, rs, scale, out); break;
            case 3: column_sums_block(3, 1, M, N, c0, last, D, rs, scale, out); break;
            case 2: column_sums_block(2, 1, M, N, c0, last, D, rs, scale, out); break;
            default: column_sums_block(1, 1, M, N, c0, last, D, rs, scale, out); break;
            }
        } else if (nv == 2) {
            column_sums_block(2, 0, M, N, c0, last, D, rs, scale, out);
        } else {
            column_sums_block(1, 0, M, N, c0, last, D, rs, scale, out);
        }
    }
    for (long c = N4; c < N; c++) {
        GF_T s = 0;
        for (long r = 0; r < M; r++) s += D[r * N + c] * (rs ? rs[r] : 1);
        out[c] += scale * s;
    }
}

GF_TARGET static void column_sums(long M, long N, const GF_T *D, const GF_T *rs, GF_T scale, GF_T *out) {
    column_sums_body(M, N, D, rs, scale, out);
}

void GF_NAME(gf_column_sums)(long M, long N, const GF_T *D, const GF_T *rs, GF_T scale, GF_T *out) {
    column_sums(M, N, D, rs, scale, out);
}

/* 12 independent chains of GF_VW-wide FMAs (enough to fill two FMA pipes of latency 4–6), for
   reading the kernels' speed against the machine's peak. 12·GF_VW·iterations multiply-adds;
   returns a value the caller should keep so the loop is not removed. */
INLINE double fma_probe_body(long iterations) {
    vd a[12];
    vd x = splat(1.0000001), y = splat(0.9999);
    for (int i = 0; i < 12; i++) a[i] = splat((GF_T)i);
    for (long k = 0; k < iterations; k++)
        _Pragma("unroll") for (int i = 0; i < 12; i++) a[i] = a[i] * x + y;
    vd s = zerov();
    for (int i = 0; i < 12; i++) s += a[i];
    double t = 0;
    for (int c = 0; c < GF_VW; c++) t += s[c];
    return t;
}

GF_TARGET static double fma_probe(long iterations) { return fma_probe_body(iterations); }

double GF_NAME(gf_fma_probe)(long iterations) { return fma_probe(iterations); }
