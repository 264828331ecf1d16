/* The three products of one convolution layer in float, timed two ways on one core: the direct
   AVX-512 kernels of gf_conv.c, and im2col + OpenBLAS sgemm the way BilinearMaps.swift runs them
   (chunks of samples, AVX-512 im2col/col2im, channel-major results copied back or gathered).
   Build and run with run.sh beside this file. Prints µs per call of a batch and multiply-adds
   per ns (the minimum of 7 repeats), and the largest difference between the two paths relative
   to the largest output. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "gf_kernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef struct { long B, C, H, W, O, k, s, p, Ho, Wo, P, K, chunk; } geo_t;

/* The im2col path, as ConvGeometry.forward / backwardInput / backwardWeights. */
static void gemm_forward(const geo_t *g, const float *x, const float *w, float *y, float *scr) {
    for (long st = 0; st < g->B; st += g->chunk) {
        long S = g->B - st < g->chunk ? g->B - st : g->chunk, L = S * g->P;
        float *cols = scr, *t = scr + g->K * L;
        for (long r = 0; r < S; r++) gf_im2col_f(x + (st + r) * g->C * g->H * g->W, cols + r * g->P, L, g->C, g->H, g->W, g->k, g->s, g->p, g->Ho, g->Wo);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->O, L, g->K, 1, w, g->K, cols, L, 0, t, L);
        for (long r = 0; r < S; r++)
            for (long c = 0; c < g->O; c++) memcpy(y + (st + r) * g->O * g->P + c * g->P, t + c * L + r * g->P, sizeof(float) * g->P);
    }
}

static void gather(const geo_t *g, const float *src, long st, long S, float *t) {
    long L = S * g->P;
    for (long r = 0; r < S; r++)
        for (long c = 0; c < g->O; c++) memcpy(t + c * L + r * g->P, src + (st + r) * g->O * g->P + c * g->P, sizeof(float) * g->P);
}

static void gemm_input(const geo_t *g, const float *gy, const float *w, float *gx, float *scr) {
    memset(gx, 0, sizeof(float) * g->B * g->C * g->H * g->W);
    for (long st = 0; st < g->B; st += g->chunk) {
        long S = g->B - st < g->chunk ? g->B - st : g->chunk, L = S * g->P;
        float *cols = scr, *t = scr + g->K * L;
        gather(g, gy, st, S, t);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->K, L, g->O, 1, w, g->K, t, L, 0, cols, L);
        for (long r = 0; r < S; r++) gf_col2im_add_f(cols + r * g->P, gx + (st + r) * g->C * g->H * g->W, L, g->C, g->H, g->W, g->k, g->s, g->p, g->Ho, g->Wo);
    }
}

static void gemm_weights(const geo_t *g, const float *x, const float *gy, float *gw, float *scr) {
    for (long st = 0; st < g->B; st += g->chunk) {
        long S = g->B - st < g->chunk ? g->B - st : g->chunk, L = S * g->P;
        float *cols = scr, *t = scr + g->K * L;
        for (long r = 0; r < S; r++) gf_im2col_f(x + (st + r) * g->C * g->H * g->W, cols + r * g->P, L, g->C, g->H, g->W, g->k, g->s, g->p, g->Ho, g->Wo);
        gather(g, gy, st, S, t);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->O, g->K, L, 1, t, L, cols, L, 1, gw, g->K);
    }
}

static double maxdiff(const float *a, const float *b, long n) {
    double d = 0, m = 0;
    for (long i = 0; i < n; i++) { d = fmax(d, fabs((double)a[i] - b[i])); m = fmax(m, fabs((double)b[i])); }
    return d / m;
}

#define TIME(label, call) do { \
        double best = 1e9; \
        for (int rep = 0; rep < 7; rep++) { double t0 = now(); for (int it = 0; it < iters; it++) { call; } best = fmin(best, now() - t0); } \
        printf("  %-34s %9.1f µs  %5.1f multiply-adds/ns\n", label, best / iters * 1e6, madds / (best / iters) * 1e-9); \
    } while (0)

int main(int argc, char **argv) {
    /* dcgan28's middle layer (D's conv 64, G's deconv 32 is its adjoint), batch 64. */
    geo_t g = {argc > 1 ? atol(argv[1]) : 64, 32, 14, 14, 64, 4, 2, 1, 7, 7, 49, 512, 0};
    g.chunk = 131072 / ((g.K + g.O) * g.P);   /* ConvGeometry.chunkNumbers / perSample */
    if (g.chunk < 1) g.chunk = 1;
    const int iters = 20;
    const double madds = (double)g.B * g.O * g.K * g.P;
    long nx = g.B * g.C * g.H * g.W, ny = g.B * g.O * g.P, nw = g.O * g.K, nscr = 400000;
    float *x = malloc(4 * nx), *w = malloc(4 * nw), *gy = malloc(4 * ny), *scr = malloc(4 * nscr);
    float *y1 = malloc(4 * ny), *y2 = malloc(4 * ny), *gx1 = malloc(4 * nx), *gx2 = malloc(4 * nx), *gw1 = calloc(nw, 4), *gw2 = calloc(nw, 4);
    srand(1);
    for (long i = 0; i < nx; i++) x[i] = rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < nw; i++) w[i] = rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < ny; i++) gy[i] = rand() / (float)RAND_MAX - 0.5f;
    /* The float FMA peak as gameflow-bench measures it: 12 chains of 16-float FMAs, the best of 15. */
    double probe = 1e9, sink = 0;
    for (int rep = 0; rep < 15; rep++) { double t0 = now(); sink += gf_fma_probe_f(200000); probe = fmin(probe, now() - t0); }
    printf("conv %ld×%ld×%ld → %ld×%ld×%ld, k %ld s %ld p %ld, batch %ld, float; %.1f M multiply-adds a product; FMA peak %.1f float multiply-adds/ns%s\n",
           g.C, g.H, g.W, g.O, g.Ho, g.Wo, g.k, g.s, g.p, g.B, madds / 1e6, 12.0 * 16 * 200000 / probe * 1e-9, sink != sink ? " " : "");
    gemm_forward(&g, x, w, y1, scr);
    if (!gf_conv_forward_f(x, w, NULL, y2, g.B, 0, g.C, g.H, g.W, g.O, g.k, g.s, g.p, g.Ho, g.Wo, scr, nscr)) { puts("the direct kernels do not run here (no AVX-512?)"); return 1; }
    gemm_input(&g, gy, w, gx1, scr);
    gf_conv_input_adjoint_f(gy, w, gx2, g.B, 0, g.C, g.H, g.W, g.O, g.k, g.s, g.p, g.Ho, g.Wo, scr, nscr);
    gemm_weights(&g, x, gy, gw1, scr);
    gf_conv_weight_adjoint_f(x, gy, gw2, g.B, g.C, g.H, g.W, g.O, g.k, g.s, g.p, g.Ho, g.Wo, scr, nscr);
    printf("  direct against im2col + sgemm, largest difference / largest number: forward %.1e, input adjoint %.1e, weight adjoint %.1e\n",
           maxdiff(y2, y1, ny), maxdiff(gx2, gx1, nx), maxdiff(gw2, gw1, nw));
    TIME("forward, im2col + sgemm", gemm_forward(&g, x, w, y1, scr));
    TIME("forward, direct", gf_conv_forward_f(x, w, NULL, y2, g.B, 0, g.C, g.H, g.W, g.O, g.k, g.s, g.p, g.Ho, g.Wo, scr, nscr));
    TIME("input adjoint, sgemm + col2im", gemm_input(&g, gy, w, gx1, scr));
    TIME("input adjoint, direct", gf_conv_input_adjoint_f(gy, w, gx2, g.B, 0, g.C, g.H, g.W, g.O, g.k, g.s, g.p, g.Ho, g.Wo, scr, nscr));
    TIME("weight adjoint, im2col + sgemm", gemm_weights(&g, x, gy, gw1, scr));
    TIME("weight adjoint, direct", gf_conv_weight_adjoint_f(x, gy, gw2, g.B, g.C, g.H, g.W, g.O, g.k, g.s, g.p, g.Ho, g.Wo, scr, nscr));
    return 0;
}
