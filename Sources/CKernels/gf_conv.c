/* Direct convolution in AVX-512, float: the three products of a convolution layer for a batch of
   samples in PyTorch's layouts (x: B × C × H × W, W: C_o × C × k × k, y: B × C_o × H_o × W_o)
   without the im2col matrix. The products by im2col and sgemm (BilinearMaps.swift) write each
   sample's C·k²·H_o·W_o columns, have OpenBLAS pack them again, and gather or copy the
   channel-major operands to and from the samples; on dcgan28's 32×14×14 → 64×7×7 layer that tax
   was about a quarter of a float32 step (Benchmarks/README.md).

   - forward, y = conv(x, W) [+ y] [+ b]: 32 output channels (two vectors) × 14 output positions
     (7 of one output row in each of two samples) in 28 accumulators; per tap (c, i, j) two vector
     loads of the transposed weights W_t[c·k² + i·k + j][·] and 14 broadcasts from zero-padded
     copies of the two samples' inputs (the padding is zeros in the copy, so no tap tests a
     bound); the tile is then transposed into the samples' rows (with the bias).
   - input adjoint, gx = convᵀ(g, W) [+ gx] (a transposed convolution): the input's rows and
     columns fall into s × s residue classes, each reached by its own taps (ρ + t·s, γ + u·s) at
     consecutive positions of the output gradient; per class 32 input channels × 7 positions in
     each of two samples, over the class's taps of zero-padded output gradients.
   - weight adjoint, gW += Σ g ⊗ patches(x): 64 output channels × 6 taps, summed over the
     positions of chunks of samples (padded inputs, gradients made position-major) onto tap-major
     running sums, transposed back into gW at the end.

   Exactness: every output is one float accumulator's sum in a fixed order (forward: taps c, i, j;
   input adjoint: the class's taps, then o; weight adjoint: gW, then samples and positions in
   order) with fused multiply-adds, then + y / + gx (accumulate), then + b: another order of the
   same sums than sgemm's, so a float32 run differs in the last bits from one on the im2col path
   (and from the 4-wide kernels); on one build and kernel width it repeats bit for bit, for any
   split of the batch (each sample's outputs depend on that sample only; weight gradients of the
   parts are added as before). Shapes: see the *_applies_f functions (strides 1 and 2 and channel
   counts in multiples of 32 or 64, taps enough to outweigh the tiles' transpositions, rows that
   fill the 7-wide blocks); the calls return 0 for other shapes, when the scratch is short, on
   CPUs without AVX-512 and on threads that asked for the 4-wide kernels (gf_kernels_set_width):
   the im2col path runs then. */
#include "gf_internal.h"
#include <string.h>

/* Positions per block of an output row, and output channels per tile. */
enum { RUN = 7, CO_TILE = 32 };

/* The weight adjoint: taps per tile (4 vectors of output channels × 6 taps: 24 accumulators, 4
   vectors of gradients and a broadcast in the 32 registers) and samples per chunk (their padded
   inputs and transposed gradients stay in L2 while every tile reads them). */
enum { WT_TAPS = 6, WT_CHUNK = 4 };

/* The padded copy of one sample's input: rows of Wp numbers, planes of Hp rows. */
typedef struct {
    long Hp, Wp, plane;
} padded_t;


#if GF_HAVE_W8
#include <immintrin.h>
#pragma clang attribute push(__attribute__((target("arch=x86-64-v4"))), apply_to = function)

#define INLINE static inline __attribute__((always_inline))

/* The tile: 2 × 16 output channels × (7 positions in row a, 7 in row b); a, b point at the
   padded rows oh·S of the two samples, wt at the tile's first output channel. */
INLINE void forward_tile(const int S, const float *a, const float *b, const padded_t pd, const float *wt, long Co, long C, long k,
                         float *t) {
    __m512 acc[2][2 * RUN];
    _Pragma("unroll") for (int v = 0; v < 2; v++) _Pragma("unroll") for (int q = 0; q < 2 * RUN; q++) acc[v][q] = _mm512_setzero_ps();
    const float *w = wt;
    for (long c = 0; c < C; c++) {
        for (long i = 0; i < k; i++) {
            const float *ra = a + c * pd.plane + i * pd.Wp, *rb = b + c * pd.plane + i * pd.Wp;
            for (long j = 0; j < k; j++) {
                const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
                w += Co;
                _Pragma("unroll") for (int q = 0; q < 2 * RUN; q++) {
                    const __m512 xv = _mm512_set1_ps(q < RUN ? ra[j + q * S] : rb[j + (q - RUN) * S]);
                    acc[0][q] = _mm512_fmadd_ps(w0, xv, acc[0][q]);
                    acc[1][q] = _mm512_fmadd_ps(w1, xv, acc[1][q]);
                }
            }
        }
    }
    _Pragma("unroll") for (int v = 0; v < 2; v++)
        _Pragma("unroll") for (int q = 0; q < 2 * RUN; q++) _mm512_store_ps(t + q * CO_TILE + 16 * v, acc[v][q]);
}

/* x's sample (C × H × W) into the interior of its padded copy (the border stays zero). */
static void pad_sample(const float *x, float *xp, const padded_t pd, long C, long H, long W, long p) {
    for (long c = 0; c < C; c++)
        for (long r = 0; r < H; r++) {
            const float *src = x + (c * H + r) * W;
            float *dst = xp + c * pd.plane + (r + p) * pd.Wp + p;
            for (long q = 0; q < W; q += 16) {
                const __mmask16 m = W - q >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (W - q)) - 1);
                _mm512_mask_storeu_ps(dst + q, m, _mm512_maskz_loadu_ps(m, src + q));
            }
        }
}

INLINE void forward_body(const int S, const float *x, const float *W, const float *bias, float *y, long B, int accumulate, long C, long H,
                    long Wd, long Co, long k, long p, long Ho, long Wo, const padded_t pd, float *scratch) {
    const long K = C * k * k, P = Ho * Wo, blocks = (Wo + RUN - 1) / RUN;
    float *wt = scratch, *xa = scratch + K * Co, *xb = xa + C * pd.plane;
    for (long co = 0; co < Co; co++)
        for (long r = 0; r < K; r++) wt[r * Co + co] = W[co * K + r];
    memset(xa, 0, sizeof(float) * 2 * C * pd.plane);
    float t[2 * RUN * CO_TILE] __attribute__((aligned(64)));
    for (long n = 0; n < B; n += 2) {
        const int pair = n + 1 < B;   /* an odd batch's last sample runs as both halves of the tile */
        pad_sample(x + n * C * H * Wd, xa, pd, C, H, Wd, p);
        if (pair) pad_sample(x + (n + 1) * C * H * Wd, xb, pd, C, H, Wd, p);
        const float *second = pair ? xb : xa;
        for (long oh = 0; oh < Ho; oh++)
            for (long blk = 0; blk < blocks; blk++) {
                const long ow0 = blk * RUN, nv = Wo - ow0 < RUN ? Wo - ow0 : RUN, at = (oh * S) * pd.Wp + ow0 * S;
                for (long cb = 0; cb < Co; cb += CO_TILE) {
                    forward_tile(S, xa + at, second + at, pd, wt + cb, Co, C, k, t);
                    for (int u = 0; u <= pair; u++) {
                        float *yr = y + (n + u) * Co * P + oh * Wo + ow0;
                        for (long co = 0; co < CO_TILE; co++) {
                            float *d = yr + (cb + co) * P;
                            const float *s = t + u * RUN * CO_TILE + co;
                            for (long q = 0; q < nv; q++) {
                                float v = s[q * CO_TILE];
                                if (accumulate) v = d[q] + v;
                                if (bias) v = v + bias[cb + co];
                                d[q] = v;
                            }
                        }
                    }
                }
            }
    }
}


/* One copy per stride, so that the tile's broadcasts have constant offsets (q·S). */
static void forward_s1(const float *x, const float *W, const float *bias, float *y, long B, int accumulate, long C, long H, long Wd,
                       long Co, long k, long p, long Ho, long Wo, const padded_t pd, float *scratch) {
    forward_body(1, x, W, bias, y, B, accumulate, C, H, Wd, Co, k, p, Ho, Wo, pd, scratch);
}
static void forward_s2(const float *x, const float *W, const float *bias, float *y, long B, int accumulate, long C, long H, long Wd,
                       long Co, long k, long p, long Ho, long Wo, const padded_t pd, float *scratch) {
    forward_body(2, x, W, bias, y, B, accumulate, C, H, Wd, Co, k, p, Ho, Wo, pd, scratch);
}

/* The input adjoint's tile: 2 × 16 input channels × (7 positions of one residue class of row r in
   each of two samples). ga, gb point at the padded output gradients' element (A + R, A + Q0) of
   the two samples; the taps of the class are (t, u) < (T_i, T_j), kernel (ρ + t·s, γ + u·s) at
   gp[A + R − t][A + Q0 + m − u]; wt at W_t's row (o = 0, ρ, γ) and channel block. */
INLINE void input_tile(const float *ga, const float *gb, const padded_t pd, const float *wt, long C, long O, long k, long s, long Ti, long Tj,
                       float *t) {
    __m512 acc[2][2 * RUN];
    _Pragma("unroll") for (int v = 0; v < 2; v++) _Pragma("unroll") for (int q = 0; q < 2 * RUN; q++) acc[v][q] = _mm512_setzero_ps();
    for (long ti = 0; ti < Ti; ti++)
        for (long tj = 0; tj < Tj; tj++) {
            const float *ra = ga - ti * pd.Wp - tj, *rb = gb - ti * pd.Wp - tj, *w = wt + (ti * k + tj) * s * C;
            for (long o = 0; o < O; o++, ra += pd.plane, rb += pd.plane, w += k * k * C) {
                const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
                _Pragma("unroll") for (int q = 0; q < 2 * RUN; q++) {
                    const __m512 gv = _mm512_set1_ps(q < RUN ? ra[q] : rb[q - RUN]);
                    acc[0][q] = _mm512_fmadd_ps(w0, gv, acc[0][q]);
                    acc[1][q] = _mm512_fmadd_ps(w1, gv, acc[1][q]);
                }
            }
        }
    _Pragma("unroll") for (int v = 0; v < 2; v++)
        _Pragma("unroll") for (int q = 0; q < 2 * RUN; q++) _mm512_store_ps(t + q * CO_TILE + 16 * v, acc[v][q]);
}

/* gx (B × C × H × W) (+)= convᵀ(g, W) for g: B × O × Ho × Wo. */
INLINE void input_adjoint(const float *g, const float *W, float *gx, long B, int accumulate, long C, long H, long Wd, long O, long k, const long s,
                          long p, long Ho, long Wo, const padded_t pd, long A, float *scratch) {
    const long K = C * k * k;
    float *wt = scratch, *ga = scratch + O * k * k * C, *gb = ga + O * pd.plane;
    for (long o = 0; o < O; o++)
        for (long c = 0; c < C; c++)
            for (long ij = 0; ij < k * k; ij++) wt[(o * k * k + ij) * C + c] = W[o * K + c * k * k + ij];
    memset(ga, 0, sizeof(float) * 2 * O * pd.plane);
    const long rows = pd.Hp - A < Ho ? pd.Hp - A : Ho, cols = pd.Wp - A < Wo ? pd.Wp - A : Wo;
    float t[2 * RUN * CO_TILE] __attribute__((aligned(64)));
    for (long n = 0; n < B; n += 2) {
        const int pair = n + 1 < B;
        for (int u = 0; u <= pair; u++) {
            const float *src = g + (n + u) * O * Ho * Wo;
            float *dst = u ? gb : ga;
            for (long o = 0; o < O; o++)
                for (long a = 0; a < rows; a++) memcpy(dst + o * pd.plane + (A + a) * pd.Wp + A, src + (o * Ho + a) * Wo, sizeof(float) * cols);
        }
        const float *second = pair ? gb : ga;
        for (long r = 0; r < H; r++) {
            const long rho = (r + p) % s, R = (r + p) / s, Ti = (k - rho + s - 1) / s;
            for (long gamma = 0; gamma < s; gamma++) {
                const long Tj = (k - gamma + s - 1) / s;
                /* positions q = s·Q + γ − p in [0, W): Q in [Qlo, Qhi] */
                const long Qlo = p - gamma > 0 ? (p - gamma + s - 1) / s : 0, Qhi = (Wd - 1 + p - gamma) / s;
                for (long Q0 = Qlo; Q0 <= Qhi; Q0 += RUN) {
                    const long nv = Qhi - Q0 + 1 < RUN ? Qhi - Q0 + 1 : RUN, at = (A + R) * pd.Wp + A + Q0;
                    for (long cb = 0; cb < C; cb += CO_TILE) {
                        input_tile(ga + at, second + at, pd, wt + (rho * k + gamma) * C + cb, C, O, k, s, Ti, Tj, t);
                        for (int u = 0; u <= pair; u++) {
                            float *xr = gx + ((n + u) * C + cb) * H * Wd + r * Wd + s * Q0 + gamma - p;
                            for (long c = 0; c < CO_TILE; c++) {
                                float *d = xr + c * H * Wd;
                                const float *v = t + u * RUN * CO_TILE + c;
                                for (long m = 0; m < nv; m++) d[s * m] = accumulate ? d[s * m] + v[m * CO_TILE] : v[m * CO_TILE];
                            }
                        }
                    }
                }
            }
        }
    }
}

/* One copy per stride (the residue classes' loops and tap offsets with a constant s). */
static void input_adjoint_s1(const float *g, const float *W, float *gx, long B, int accumulate, long C, long H, long Wd, long O, long k,
                             long p, long Ho, long Wo, const padded_t pd, long A, float *scratch) {
    input_adjoint(g, W, gx, B, accumulate, C, H, Wd, O, k, 1, p, Ho, Wo, pd, A, scratch);
}
static void input_adjoint_s2(const float *g, const float *W, float *gx, long B, int accumulate, long C, long H, long Wd, long O, long k,
                             long p, long Ho, long Wo, const padded_t pd, long A, float *scratch) {
    input_adjoint(g, W, gx, B, accumulate, C, H, Wd, O, k, 2, p, Ho, Wo, pd, A, scratch);
}


/* The weight adjoint's tile: 4 × 16 output channels × 6 taps (columns of W's rows), summed over
   the positions of a chunk of samples onto the running sums gwt (tap-major: gwt[tap][o]). gt: the
   chunk's output gradients position-major (gt[n][a·Wo + b][o], at the tile's first channel); xp:
   the chunk's padded inputs; off: each tap's offset c·plane + i·Wp + j in a padded input. */
INLINE void weight_tile(const float *gt, const float *xp, long S, long Ho, long Wo, long s, const padded_t pd, long sample, const long *off,
                        int taps, float *gwt, long O) {
    __m512 acc[4][WT_TAPS];
    _Pragma("unroll") for (int t = 0; t < WT_TAPS; t++)
        _Pragma("unroll") for (int v = 0; v < 4; v++) acc[v][t] = t < taps ? _mm512_loadu_ps(gwt + t * O + 16 * v) : _mm512_setzero_ps();
    long o0 = off[0], o1 = off[taps > 1], o2 = off[taps > 2 ? 2 : 0], o3 = off[taps > 3 ? 3 : 0], o4 = off[taps > 4 ? 4 : 0], o5 = off[taps > 5 ? 5 : 0];
    for (long n = 0; n < S; n++) {
        const float *g = gt + n * Ho * Wo * O, *xn = xp + n * sample;
        for (long a = 0; a < Ho; a++) {
            const float *base = xn + a * s * pd.Wp;
            for (long b = 0; b < Wo; b++, base += s, g += O) {
                const __m512 g0 = _mm512_loadu_ps(g), g1 = _mm512_loadu_ps(g + 16), g2 = _mm512_loadu_ps(g + 32), g3 = _mm512_loadu_ps(g + 48);
                const long tap[WT_TAPS] = {o0, o1, o2, o3, o4, o5};
                _Pragma("unroll") for (int t = 0; t < WT_TAPS; t++) {
                    const __m512 xv = _mm512_set1_ps(base[tap[t]]);
                    acc[0][t] = _mm512_fmadd_ps(g0, xv, acc[0][t]);
                    acc[1][t] = _mm512_fmadd_ps(g1, xv, acc[1][t]);
                    acc[2][t] = _mm512_fmadd_ps(g2, xv, acc[2][t]);
                    acc[3][t] = _mm512_fmadd_ps(g3, xv, acc[3][t]);
                }
            }
        }
    }
    _Pragma("unroll") for (int t = 0; t < WT_TAPS; t++)
        if (t < taps) _Pragma("unroll") for (int v = 0; v < 4; v++) _mm512_storeu_ps(gwt + t * O + 16 * v, acc[v][t]);
}

/* gW (O × C·k²) += Σ over samples and positions of g ⊗ patches of x, in chunks of WT_CHUNK samples. */
static void weight_adjoint(const float *x, const float *g, float *gw, long B, long C, long H, long Wd, long O, long k, long s, long p,
                           long Ho, long Wo, const padded_t pd, float *scratch) {
    const long K = C * k * k, P = Ho * Wo, sample = C * pd.plane;
    float *gwt = scratch, *gt = scratch + K * O, *xp = gt + WT_CHUNK * P * O;
    for (long o = 0; o < O; o++)
        for (long t = 0; t < K; t++) gwt[t * O + o] = gw[o * K + t];
    memset(xp, 0, sizeof(float) * WT_CHUNK * sample);
    long off[WT_TAPS];
    for (long n0 = 0; n0 < B; n0 += WT_CHUNK) {
        const long S = B - n0 < WT_CHUNK ? B - n0 : WT_CHUNK;
        for (long n = 0; n < S; n++) {
            pad_sample(x + (n0 + n) * C * H * Wd, xp + n * sample, pd, C, H, Wd, p);
            const float *gn = g + (n0 + n) * O * P;
            float *tn = gt + n * P * O;
            for (long o = 0; o < O; o++)
                for (long q = 0; q < P; q++) tn[q * O + o] = gn[o * P + q];
        }
        for (long t0 = 0; t0 < K; t0 += WT_TAPS) {
            const int taps = K - t0 < WT_TAPS ? (int)(K - t0) : WT_TAPS;
            for (int t = 0; t < taps; t++) {
                const long tap = t0 + t, c = tap / (k * k), i = tap / k % k, j = tap % k;
                off[t] = c * pd.plane + i * pd.Wp + j;
            }
            for (long ob = 0; ob < O; ob += 64) weight_tile(gt + ob, xp, S, Ho, Wo, s, pd, sample, off, taps, gwt + t0 * O + ob, O);
        }
    }
    for (long o = 0; o < O; o++)
        for (long t = 0; t < K; t++) gw[o * K + t] = gwt[t * O + o];
}

#pragma clang attribute pop
#endif

/* The padded copy's sizes: the interior at (p, p), wide and tall enough for every block's taps. */
static padded_t padded(long H, long W, long k, long s, long p, long Ho, long Wo) {
    const long blocks = (Wo + RUN - 1) / RUN;
    long Hp = H + 2 * p, Wp = W + 2 * p;
    if ((Ho - 1) * s + k > Hp) Hp = (Ho - 1) * s + k;
    if ((blocks * RUN - 1) * s + k > Wp) Wp = (blocks * RUN - 1) * s + k;
    padded_t pd = {Hp, Wp, Hp * Wp};
    return pd;
}

long gf_conv_forward_scratch_f(long C, long H, long W, long Co, long k, long s, long p, long Ho, long Wo) {
    return C * k * k * Co + 2 * C * padded(H, W, k, s, p, Ho, Wo).plane;
}

/* Forward: stride 1 or 2, C_o a multiple of 32, C·k² ≥ 128, and rows of W_o that waste at most
   one position in eight of the 7-wide blocks (W_o = 7, 13, 14, 21, …). */
int gf_conv_forward_applies_f(long C, long Co, long k, long s, long Wo) {
    const long blocks = (Wo + RUN - 1) / RUN;
    return (s == 1 || s == 2) && Co % CO_TILE == 0 && C * k * k >= 128 && 8 * (blocks * RUN - Wo) <= blocks * RUN;
}

int gf_conv_forward_f(const float *x, const float *w, const float *bias, float *y, long B, int accumulate, long C, long H, long W, long Co,
                      long k, long s, long p, long Ho, long Wo, float *scratch, long scratchCount) {
    GF_RUN_W8(gf_conv_forward_applies_f(C, Co, k, s, Wo) && scratchCount >= gf_conv_forward_scratch_f(C, H, W, Co, k, s, p, Ho, Wo),
              (s == 1 ? forward_s1(x, w, bias, y, B, accumulate, C, H, W, Co, k, p, Ho, Wo, padded(H, W, k, s, p, Ho, Wo), scratch)
                      : forward_s2(x, w, bias, y, B, accumulate, C, H, W, Co, k, p, Ho, Wo, padded(H, W, k, s, p, Ho, Wo), scratch)));
}

/* The input adjoint's padded output gradients: A = ⌈k/s⌉ − 1 zero rows and columns before the
   first, and room for every class's blocks of 7 after. */
static padded_t padded_gradient(long H, long W, long k, long s, long p, long *A) {
    *A = (k + s - 1) / s - 1;
    long cols = 0;
    for (long gamma = 0; gamma < s; gamma++) {
        const long Qlo = p - gamma > 0 ? (p - gamma + s - 1) / s : 0, Qhi = (W - 1 + p - gamma) / s;
        const long end = Qhi < Qlo ? Qlo : Qlo + (Qhi - Qlo + RUN) / RUN * RUN;
        if (end > cols) cols = end;
    }
    padded_t pd = {*A + (H - 1 + p) / s + 1, *A + cols, 0};
    pd.plane = pd.Hp * pd.Wp;
    return pd;
}

long gf_conv_input_adjoint_scratch_f(long C, long H, long W, long O, long k, long s, long p) {
    long A;
    return O * k * k * C + 2 * O * padded_gradient(H, W, k, s, p, &A).plane;
}

/* Input adjoint: stride 1 or 2, C a multiple of 32, C_o·⌈k/s⌉² ≥ 128 taps per class, and the
   classes' rows wasting at most one position in eight of their 7-wide blocks. */
int gf_conv_input_adjoint_applies_f(long C, long W, long O, long k, long s, long p) {
    if (!(s == 1 || s == 2) || C % CO_TILE != 0 || O * ((k + s - 1) / s) * ((k + s - 1) / s) < 128 || W + 2 * p < k) return 0;
    long computed = 0;
    for (long gamma = 0; gamma < s; gamma++) {
        const long Qlo = p - gamma > 0 ? (p - gamma + s - 1) / s : 0, Qhi = (W - 1 + p - gamma) / s;
        if (Qhi >= Qlo) computed += (Qhi - Qlo + RUN) / RUN * RUN;
    }
    return 8 * (computed - W) <= computed;
}

int gf_conv_input_adjoint_f(const float *g, const float *w, float *gx, long B, int accumulate, long C, long H, long W, long O, long k, long s,
                            long p, long Ho, long Wo, float *scratch, long scratchCount) {
    long A;
    const padded_t pd = padded_gradient(H, W, k, s, p, &A);
    GF_RUN_W8(gf_conv_input_adjoint_applies_f(C, W, O, k, s, p) && scratchCount >= gf_conv_input_adjoint_scratch_f(C, H, W, O, k, s, p),
              (s == 1 ? input_adjoint_s1(g, w, gx, B, accumulate, C, H, W, O, k, p, Ho, Wo, pd, A, scratch)
                      : input_adjoint_s2(g, w, gx, B, accumulate, C, H, W, O, k, p, Ho, Wo, pd, A, scratch)));
}

long gf_conv_weight_adjoint_scratch_f(long C, long H, long W, long O, long k, long s, long p, long Ho, long Wo) {
    return C * k * k * O + WT_CHUNK * (Ho * Wo * O + C * (H + 2 * p) * (W + 2 * p));
}

/* Weight adjoint: any stride, C_o a multiple of 64, at least 16 output positions a sample. */
int gf_conv_weight_adjoint_applies_f(long O, long Ho, long Wo) { return O % 64 == 0 && Ho * Wo >= 16; }

int gf_conv_weight_adjoint_f(const float *x, const float *g, float *gw, long B, long C, long H, long W, long O, long k, long s, long p,
                             long Ho, long Wo, float *scratch, long scratchCount) {
    GF_RUN_W8(gf_conv_weight_adjoint_applies_f(O, Ho, Wo) && scratchCount >= gf_conv_weight_adjoint_scratch_f(C, H, W, O, k, s, p, Ho, Wo),
              weight_adjoint(x, g, gw, B, C, H, W, O, k, s, p, Ho, Wo, (padded_t){H + 2 * p, W + 2 * p, (H + 2 * p) * (W + 2 * p)}, scratch));
}
