/* The public calls (gf_kernels.h): packing of the weights, the multiply-add counter and the
   choice of build — the 8-wide AVX-512 one where the CPU has it, the 4-wide one otherwise (see
   gf_internal.h). The kernels themselves are in gf_vector_body.h. */
#include "gf_internal.h"
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* ---- which build runs ---------------------------------------------------------------------- */

static int cpuHasW8;

#if GF_HAVE_W8
__attribute__((constructor)) static void detect_cpu(void) {
    __builtin_cpu_init();
    cpuHasW8 = __builtin_cpu_supports("x86-64-v4");
}
#endif

/* 0: the CPU's best build; 4 or 8: a width the calling thread asked for (gf_kernels_set_width). */
static _Thread_local int chosenWidth;

INLINE int width(void) { return chosenWidth ? chosenWidth : (cpuHasW8 ? 8 : 4); }

int gf_kernels_width(void) { return width(); }

int gf_kernels_width_available(int w) { return w == 4 || (w == 8 && cpuHasW8); }

int gf_kernels_set_width(int w) {
    if (w == 0 || gf_kernels_width_available(w)) {
        chosenWidth = w;
        return 1;
    }
    return 0;
}

int gf_kernels_vectorized(void) {
    if (width() == 8) return 2;
    return gf_w4_is_avx2();
}

/* The entry points of one build. */
typedef struct {
    gf_rows_times_fn *rowsTimes;
    gf_tn_fn *tn;
    gf_column_sums_fn *columnSums;
    double (*fmaProbe)(long);
} build_t;

static const build_t w4 = {gf_rows_times_w4, gf_tn_w4, gf_column_sums_w4, gf_fma_probe_w4};
#if GF_HAVE_W8
static const build_t w8 = {gf_rows_times_w8, gf_tn_w8, gf_column_sums_w8, gf_fma_probe_w8};
#endif

/* The running build (width() is 8 only where GF_HAVE_W8). */
INLINE const build_t *build(void) {
#if GF_HAVE_W8
    if (width() == 8) return &w8;
#endif
    return &w4;
}

double gf_fma_probe(long iterations) { return build()->fmaProbe(iterations); }

/* ---- packing ----------------------------------------------------------------------------- */

INLINE long round_up(long n, long w) { return (n + w - 1) / w * w; }
INLINE long maxl(long a, long b) { return a > b ? a : b; }

size_t gf_scratch_count(long a, long b) {
    long m = maxl(a, b);
    /* Two packed operands (a pair) with the bias row, padded for either width, plus alignment. */
    return (size_t)((2 * m + 1) * round_up(m, 8) + a * b + 16);
}

/* Packed operands start on a cache line: a vector load across two lines costs two loads. */
INLINE double *align64(double *p) { return (double *)(((unsigned long)p + 63) & ~63UL); }

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

/* W (K × N) with its columns padded to ldb; W itself when ldb = N. */
static const double *pack_padded(long K, long N, long ldb, const double *W, double *B) {
    if (ldb == N) return W;
    for (long k = 0; k < K; k++) {
        for (long n = 0; n < N; n++) B[k * ldb + n] = W[k * N + n];
        for (long n = N; n < ldb; n++) B[k * ldb + n] = 0;
    }
    return B;
}

/* One or two outputs over a long enough K: dot products along K (gf_dots_w4). */
INLINE int uses_dots(long N, long K) { return N <= 2 && K >= 8; }

/* ---- the public products ------------------------------------------------------------------ */

/* Multiply-adds of the products, per thread (a pair counts both products; bias, column sums and
   epilogues are not counted). One add per call: ~100 calls per GAN step. */
static _Thread_local long long madds;

long long gf_multiply_adds(void) { return madds; }

void gf_count_multiply_adds(long long n) { madds += n; }

void gf_dense_nt(long M, long K, long N, const double *X, const double *W, const double *bias,
                 const double *rowScale, int accumulate, double *out, int epilogue, int activation,
                 double slope, const double *mask, double *out2, double *scratch) {
    madds += (long long)M * K * N;
    gf_epilogue_t e = {activation, slope, rowScale, mask, out, out2};
    if (uses_dots(N, K)) { gf_dots_w4(M, K, N, X, W, bias, accumulate, epilogue, &e); return; }
    long ldb = round_up(N, width());
    scratch = align64(scratch);
    const double *biasp = pack_bias(N, ldb, bias, pack_transposed(K, N, ldb, W, scratch));   /* the bias follows B */
    build()->rowsTimes(epilogue, M, K, N, X, scratch, ldb, biasp, accumulate, NULL, &e);
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
    gf_epilogue_t e = {activation, slope, rowScale, mask, out, out2};
    long ldb = round_up(N, width());
    scratch = align64(scratch);
    double *B2 = pack_transposed(K, N, ldb, W, scratch);
    const double *biasp = pack_bias(N, ldb, bias, pack_transposed(K2, N, ldb, W2, B2));
    gf_second_t p2 = {K2, X2, B2};
    build()->rowsTimes(epilogue, M, K, N, X, scratch, ldb, biasp, 0, &p2, &e);
}

void gf_dense_nn(long M, long K, long N, const double *X, const double *W,
                 const double *rowScale, int accumulate, double *out, int epilogue, int activation, double slope,
                 const double *mask, double *out2, double *scratch) {
    gf_epilogue_t e = {activation, slope, rowScale, mask, out, out2};
    madds += (long long)M * K * N;
    scratch = align64(scratch);
    if (uses_dots(N, K)) {
        /* Wᵀ rows (N × K) for the dot path. */
        for (long n = 0; n < N; n++)
            for (long k = 0; k < K; k++) scratch[n * K + k] = W[k * N + n];
        gf_dots_w4(M, K, N, X, scratch, NULL, accumulate, epilogue, &e);
        return;
    }
    long ldb = round_up(N, width());
    build()->rowsTimes(epilogue, M, K, N, X, pack_padded(K, N, ldb, W, scratch), ldb, NULL, accumulate, NULL, &e);
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
    gf_epilogue_t e = {activation, slope, rowScale, mask, out, out2};
    long ldb = round_up(N, width());
    scratch = align64(scratch);
    const double *B = pack_padded(K, N, ldb, W, scratch);
    gf_second_t p2 = {K2, X2, pack_padded(K2, N, ldb, W2, scratch + K * ldb)};
    build()->rowsTimes(epilogue, M, K, N, X, B, ldb, NULL, 0, &p2, &e);
}

void gf_dense_tn(long M, long N, long K, const double *D, const double *A, const double *rowScale,
                 double scale, double *G, double *gb, double *scratch) {
    madds += (long long)M * N * K;
    if ((K & 3) != 0 && (N & 3) == 0 && N > K) {
        /* Narrow inputs (e.g. a 2-D first layer): vectorise over N instead, Gᵀ in scratch. */
        scratch = align64(scratch);
        memset(scratch, 0, sizeof(double) * (size_t)(K * N));
        build()->tn(0, rowScale != NULL, M, K, N, A, D, rowScale, scale, scratch);
        for (long n = 0; n < N; n++)
            for (long k = 0; k < K; k++) G[n * K + k] += scratch[k * N + n];
    } else {
        build()->tn(rowScale != NULL, 0, M, N, K, D, A, rowScale, scale, G);
    }
    /* A separate vectorised pass: summing inside the product put a branch and a scalar
       dependency chain in its inner loop. */
    if (gb) build()->columnSums(M, N, D, rowScale, scale, gb);
}
