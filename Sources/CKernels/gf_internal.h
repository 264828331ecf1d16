#ifndef GF_INTERNAL_H
#define GF_INTERNAL_H
/*
 * What gf_kernels.c (the public calls: packing, counting, dispatch) shares with the vector
 * builds of the kernels: gf_kernels_w4.c (4 doubles wide: an AVX2/FMA clone and a baseline clone),
 * gf_kernels_w8.c (8 doubles: AVX-512), gf_kernels_f8.c and gf_kernels_f16.c (the same vectors
 * holding 8 and 16 floats). Every vector build includes gf_vector_body.h, written once for a number
 * type and a vector width GF_VW.
 *
 * Every output element is computed the same way in every build: the same operations in the same
 * order, one element per vector lane (the width only decides how many lanes run side by side).
 * So the 4-wide AVX2 build and the 8-wide AVX-512 build give bit-identical results; the baseline
 * clone differs in the last bits only because it has no fused multiply-add.
 */
#include "gf_kernels.h"

#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define GF_HAVE_W8 1
#else
#define GF_HAVE_W8 0
#endif

/* The body of a public call with an AVX-512-only implementation (gf_im2col.c, gf_elementwise.c):
   where the AVX-512 build runs on this thread and `ok` holds, `call` runs and the result is 1;
   otherwise nothing is written and the result is 0 (the caller's loops run instead). */
#if GF_HAVE_W8
#define GF_RUN_W8(ok, call) do { if (gf_kernels_width() != 8 || !(ok)) return 0; call; return 1; } while (0)
#else
#define GF_RUN_W8(ok, call) return 0
#endif

/* The activation is read at run time from the epilogue (ReLU, the paper's and the default, gets
   its own compiled variants; the others share one). */
#define GF_ANY (-1)

typedef struct {
    int act;
    double slope;
    const double *rowScale;   /* NULL, or one factor per row applied to [bias +] X·B */
    const double *mask;
    double *out, *out2;
} gf_epilogue_t;

/* A second product added after the row scaling (a pair): X2 (M × K2) times B2 (K2 × ldb). */
typedef struct {
    long K;
    const double *X, *B;
} gf_second_t;

/* out = [out +] rowScale ⊙ ([bias +] X·B) [+ X2·B2], then the epilogue; B: K × ldb with its
   columns zero-padded to a multiple of the build's width (ldb). p2 = NULL: one product. */
typedef void gf_rows_times_fn(int epi, long M, long K, long N, const double *X, const double *B, long ldb,
                              const double *biasp, int accumulate, const gf_second_t *p2, const gf_epilogue_t *e);
/* Out (P×Q) += scale·Uᵀ·V with the rows of U (su) or of V (sv) scaled by rs. */
typedef void gf_tn_fn(int su, int sv, long M, long P, long Q, const double *U, const double *V, const double *rs,
                      double scale, double *Out);
/* out (N) += scale·Σ_rows rs_r·D_r. */
typedef void gf_column_sums_fn(long M, long N, const double *D, const double *rs, double scale, double *out);

/* The same for float (the float builds gf_kernels_f8.c and gf_kernels_f16.c). */
typedef struct {
    int act;
    float slope;
    const float *rowScale;
    const float *mask;
    float *out, *out2;
} gf_epilogue_f_t;
typedef struct {
    long K;
    const float *X, *B;
} gf_second_f_t;
typedef void gf_rows_times_f_fn(int epi, long M, long K, long N, const float *X, const float *B, long ldb,
                                const float *biasp, int accumulate, const gf_second_f_t *p2, const gf_epilogue_f_t *e);
typedef void gf_tn_f_fn(int su, int sv, long M, long P, long Q, const float *U, const float *V, const float *rs,
                        float scale, float *Out);
typedef void gf_column_sums_f_fn(long M, long N, const float *D, const float *rs, float scale, float *out);

gf_rows_times_fn gf_rows_times_w4, gf_rows_times_w8;
gf_rows_times_f_fn gf_rows_times_f8, gf_rows_times_f16;
gf_tn_f_fn gf_tn_f8, gf_tn_f16;
gf_column_sums_f_fn gf_column_sums_f8, gf_column_sums_f16;
double gf_fma_probe_f8(long iterations);
double gf_fma_probe_f16(long iterations);
gf_tn_fn gf_tn_w4, gf_tn_w8;
gf_column_sums_fn gf_column_sums_w4, gf_column_sums_w8;
double gf_fma_probe_w4(long iterations);
double gf_fma_probe_w8(long iterations);
int gf_w4_is_avx2(void);

/* One or two outputs per row (N ≤ 2): dot products along K, 4-wide in every build (the lanes
   run along K, so a wider vector would change the order of the sums). Wr: N × K. */
void gf_dots_w4(long M, long K, long N, const double *X, const double *Wr, const double *bias, int accumulate, int epi,
                const gf_epilogue_t *e);

#endif
