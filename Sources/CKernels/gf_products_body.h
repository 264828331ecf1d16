/*
 * The public products (gf_kernels.h) and the packing of their weights, written once for a number
 * type and included twice by gf_kernels.c: for double (gf_dense_nt, …) and for float
 * (gf_dense_nt_f, …). Define before including: GF_PT (the type), GF_P(name) (the names), GF_PEPI and
 * GF_PSEC (the epilogue and second-product types), GF_PBUILD() (the running build's entry points),
 * GF_PLANES (numbers per vector of that build) and GF_PDOTS (1: the double dot-product path for
 * one or two outputs exists).
 */
/* Packed operands start on a cache line: a vector load across two lines costs two loads. */
INLINE GF_PT *GF_P(align64)(GF_PT *p) { return (GF_PT *)(((unsigned long)p + 63) & ~63UL); }

/* B = Wᵀ (K × ldb) with zero-padded columns, W: N × K. Returns the next free GF_PT. */
static GF_PT *GF_P(pack_transposed)(long K, long N, long ldb, const GF_PT *W, GF_PT *B) {
    for (long k = 0; k < K; k++) {
        for (long n = 0; n < N; n++) B[k * ldb + n] = W[n * K + k];
        for (long n = N; n < ldb; n++) B[k * ldb + n] = 0;
    }
    return B + K * ldb;
}

/* The bias padded to ldb at dst, or NULL without a bias. */
static const GF_PT *GF_P(pack_bias)(long N, long ldb, const GF_PT *bias, GF_PT *dst) {
    if (!bias) return NULL;
    for (long n = 0; n < ldb; n++) dst[n] = n < N ? bias[n] : 0;
    return dst;
}

/* W (K × N) with its columns padded to ldb; W itself when ldb = N. */
static const GF_PT *GF_P(pack_padded)(long K, long N, long ldb, const GF_PT *W, GF_PT *B) {
    if (ldb == N) return W;
    for (long k = 0; k < K; k++) {
        for (long n = 0; n < N; n++) B[k * ldb + n] = W[k * N + n];
        for (long n = N; n < ldb; n++) B[k * ldb + n] = 0;
    }
    return B;
}

/* One or two outputs over a long enough K: dot products along K (gf_dots_w4). */
INLINE int GF_P(uses_dots)(long N, long K) { return GF_PDOTS && N <= 2 && K >= 8; }
#if GF_PDOTS
#define GF_DOTS gf_dots_w4
#else
/* Never reached (uses_dots is 0): float has no dot-product path; the rows path takes N ≤ 2. */
#define GF_DOTS(M, K, N, X, W, bias, accumulate, epi, e) ((void)(e))
#endif



void GF_P(gf_dense_nt)(long M, long K, long N, const GF_PT *X, const GF_PT *W, const GF_PT *bias,
                 const GF_PT *rowScale, int accumulate, GF_PT *out, int epilogue, int activation,
                 GF_PT slope, const GF_PT *mask, GF_PT *out2, GF_PT *scratch) {
    madds += (long long)M * K * N;
    GF_PEPI e = {activation, slope, rowScale, mask, out, out2};
    if (GF_P(uses_dots)(N, K)) { GF_DOTS(M, K, N, X, W, bias, accumulate, epilogue, &e); return; }
    long ldb = round_up(N, GF_PLANES);
    scratch = GF_P(align64)(scratch);
    const GF_PT *biasp = GF_P(pack_bias)(N, ldb, bias, GF_P(pack_transposed)(K, N, ldb, W, scratch));   /* the bias follows B */
    GF_PBUILD()->rowsTimes(epilogue, M, K, N, X, scratch, ldb, biasp, accumulate, NULL, &e);
}

void GF_P(gf_dense_nt_pair)(long M, long K, long N, const GF_PT *X, const GF_PT *W, const GF_PT *bias,
                      const GF_PT *rowScale, long K2, const GF_PT *X2, const GF_PT *W2, GF_PT *out, int epilogue,
                      int activation, GF_PT slope, const GF_PT *mask, GF_PT *out2, GF_PT *scratch) {
    if (GF_P(uses_dots)(N, K) || GF_P(uses_dots)(N, K2)) {
        /* The dot path: X2·W2ᵀ first, then the scaled product accumulates onto it. */
        GF_P(gf_dense_nt)(M, K2, N, X2, W2, NULL, NULL, 0, out, GF_EPI_NONE, activation, slope, NULL, NULL, scratch);
        GF_P(gf_dense_nt)(M, K, N, X, W, bias, rowScale, 1, out, epilogue, activation, slope, mask, out2, scratch);
        return;
    }
    madds += (long long)M * (K + K2) * N;
    GF_PEPI e = {activation, slope, rowScale, mask, out, out2};
    long ldb = round_up(N, GF_PLANES);
    scratch = GF_P(align64)(scratch);
    GF_PT *B2 = GF_P(pack_transposed)(K, N, ldb, W, scratch);
    const GF_PT *biasp = GF_P(pack_bias)(N, ldb, bias, GF_P(pack_transposed)(K2, N, ldb, W2, B2));
    GF_PSEC p2 = {K2, X2, B2};
    GF_PBUILD()->rowsTimes(epilogue, M, K, N, X, scratch, ldb, biasp, 0, &p2, &e);
}

void GF_P(gf_dense_nn)(long M, long K, long N, const GF_PT *X, const GF_PT *W,
                 const GF_PT *rowScale, int accumulate, GF_PT *out, int epilogue, int activation, GF_PT slope,
                 const GF_PT *mask, GF_PT *out2, GF_PT *scratch) {
    GF_PEPI e = {activation, slope, rowScale, mask, out, out2};
    madds += (long long)M * K * N;
    scratch = GF_P(align64)(scratch);
    if (GF_P(uses_dots)(N, K)) {
        /* Wᵀ rows (N × K) for the dot path. */
        for (long n = 0; n < N; n++)
            for (long k = 0; k < K; k++) scratch[n * K + k] = W[k * N + n];
        GF_DOTS(M, K, N, X, scratch, NULL, accumulate, epilogue, &e);
        return;
    }
    long ldb = round_up(N, GF_PLANES);
    GF_PBUILD()->rowsTimes(epilogue, M, K, N, X, GF_P(pack_padded)(K, N, ldb, W, scratch), ldb, NULL, accumulate, NULL, &e);
}

void GF_P(gf_dense_nn_pair)(long M, long K, long N, const GF_PT *X, const GF_PT *W, const GF_PT *rowScale,
                      long K2, const GF_PT *X2, const GF_PT *W2, GF_PT *out, int epilogue, int activation,
                      GF_PT slope, const GF_PT *mask, GF_PT *out2, GF_PT *scratch) {
    if (GF_P(uses_dots)(N, K) || GF_P(uses_dots)(N, K2)) {
        GF_P(gf_dense_nn)(M, K2, N, X2, W2, NULL, 0, out, GF_EPI_NONE, activation, slope, NULL, NULL, scratch);
        GF_P(gf_dense_nn)(M, K, N, X, W, rowScale, 1, out, epilogue, activation, slope, mask, out2, scratch);
        return;
    }
    madds += (long long)M * (K + K2) * N;
    GF_PEPI e = {activation, slope, rowScale, mask, out, out2};
    long ldb = round_up(N, GF_PLANES);
    scratch = GF_P(align64)(scratch);
    const GF_PT *B = GF_P(pack_padded)(K, N, ldb, W, scratch);
    GF_PSEC p2 = {K2, X2, GF_P(pack_padded)(K2, N, ldb, W2, scratch + K * ldb)};
    GF_PBUILD()->rowsTimes(epilogue, M, K, N, X, B, ldb, NULL, 0, &p2, &e);
}

void GF_P(gf_dense_tn)(long M, long N, long K, const GF_PT *D, const GF_PT *A, const GF_PT *rowScale,
                 GF_PT scale, GF_PT *G, GF_PT *gb, GF_PT *scratch) {
    madds += (long long)M * N * K;
    if ((K & 3) != 0 && (N & 3) == 0 && N > K) {
        /* Narrow inputs (e.g. a 2-D first layer): vectorise over N instead, Gᵀ in scratch. */
        scratch = GF_P(align64)(scratch);
        memset(scratch, 0, sizeof(GF_PT) * (size_t)(K * N));
        GF_PBUILD()->tn(0, rowScale != NULL, M, K, N, A, D, rowScale, scale, scratch);
        for (long n = 0; n < N; n++)
            for (long k = 0; k < K; k++) G[n * K + k] += scratch[k * N + n];
    } else {
        GF_PBUILD()->tn(rowScale != NULL, 0, M, N, K, D, A, rowScale, scale, G);
    }
    /* A separate vectorised pass: summing inside the product put a branch and a scalar
       dependency chain in its inner loop. */
    if (gb) GF_PBUILD()->columnSums(M, N, D, rowScale, scale, gb);
}
#undef GF_DOTS
