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

/* The float builds: 16 floats per vector where the double build is 8 wide, 8 otherwise. */
typedef struct {
    gf_rows_times_f_fn *rowsTimes;
    gf_tn_f_fn *tn;
    gf_column_sums_f_fn *columnSums;
    double (*fmaProbe)(long);
} build_f_t;

static const build_f_t f8 = {gf_rows_times_f8, gf_tn_f8, gf_column_sums_f8, gf_fma_probe_f8};
#if GF_HAVE_W8
static const build_f_t f16 = {gf_rows_times_f16, gf_tn_f16, gf_column_sums_f16, gf_fma_probe_f16};
#endif

INLINE const build_f_t *build_f(void) {
#if GF_HAVE_W8
    if (width() == 8) return &f16;
#endif
    return &f8;
}

double gf_fma_probe_f(long iterations) { return build_f()->fmaProbe(iterations); }

/* ---- packing (the rest is in gf_products_body.h) ------------------------------------------ */

INLINE long round_up(long n, long w) { return (n + w - 1) / w * w; }
INLINE long maxl(long a, long b) { return a > b ? a : b; }

size_t gf_scratch_count(long a, long b) {
    long m = maxl(a, b);
    /* Two packed operands (a pair) with the bias row, padded for any build's width (16 floats
       or 8 doubles), plus alignment. */
    return (size_t)((2 * m + 1) * round_up(m, 16) + a * b + 16);
}

/* ---- the public products ------------------------------------------------------------------ */

/* Multiply-adds of the products, per thread (a pair counts both products; bias, column sums and
   epilogues are not counted). One add per call: ~100 calls per GAN step. */
static _Thread_local long long madds;

long long gf_multiply_adds(void) { return madds; }

void gf_count_multiply_adds(long long n) { madds += n; }

/* The products in double, then in float. */
#define GF_PT double
#define GF_P(name) name
#define GF_PEPI gf_epilogue_t
#define GF_PSEC gf_second_t
#define GF_PBUILD build
#define GF_PLANES width()
#define GF_PDOTS 1
#include "gf_products_body.h"
#undef GF_PT
#undef GF_P
#undef GF_PEPI
#undef GF_PSEC
#undef GF_PBUILD
#undef GF_PLANES
#undef GF_PDOTS
#define GF_PT float
#define GF_P(name) name##_f
#define GF_PEPI gf_epilogue_f_t
#define GF_PSEC gf_second_f_t
#define GF_PBUILD build_f
#define GF_PLANES (2 * width())
#define GF_PDOTS 0
#include "gf_products_body.h"
