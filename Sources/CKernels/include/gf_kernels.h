#ifndef GF_KERNELS_H
#define GF_KERNELS_H
/*
 * Small dense kernels for GameFlow's MLPs: row-major batches (M rows) times small weight
 * matrices (widths of a few to a few hundred), with bias, activation and activation-derivative
 * epilogues fused into the product. At the paper's size (512 × 16 · 16 × 16) they run about
 * twice as fast as OpenBLAS dgemm, which packs and dispatches for large matrices.
 *
 * Builds: the kernels are compiled three times — 8 doubles wide for AVX-512 (x86-64-v4), and
 * 4 wide as an AVX2/FMA (x86-64-v3) clone and a baseline clone (`target_clones`) — and the best
 * one the CPU supports runs, so one binary runs everywhere. The AVX-512 and AVX2 builds give
 * bit-identical results (each output element is computed by the same operations in the same
 * order; only the number of elements per instruction differs). The baseline build can differ in
 * the last bits (no fused multiply-add). On one machine, results are deterministic.
 */
#include <stddef.h>

/* Epilogues applied to v = the accumulated product, per element. */
enum {
    GF_EPI_NONE = 0,     /* out = v */
    GF_EPI_ACTIVATE = 1, /* out = σ(v) */
    GF_EPI_DERIV = 2,    /* out = v, out2 = σ′·v  (σ′ read from mask) */
    GF_EPI_MASKED = 3    /* out = σ′·v            (σ′ read from mask) */
};

/* Activations. For σ′: relu/leaky read the sign of mask (pre-activation z, or σ(z), same sign);
   tanh reads mask = σ(z) and uses 1 − σ²; linear ignores mask. */
enum { GF_RELU = 0, GF_LEAKY = 1, GF_TANH = 2, GF_LINEAR = 3 };

/* Numbers (doubles, or floats for the _f calls) of scratch any of the calls below needs for a
   layer with widths a and b. */
size_t gf_scratch_count(long a, long b);

/* out (M×N) = [out +] s ⊙ ([bias +] X·Wᵀ), then the epilogue.  X: M×K, W: N×K, bias: N (or
   NULL), s: one factor per row (or NULL = 1), mask/out2: M×N when the epilogue uses them. */
void gf_dense_nt(long M, long K, long N, const double *X, const double *W, const double *bias,
                 const double *rowScale, int accumulate, double *out, int epilogue, int activation,
                 double slope, const double *mask, double *out2, double *scratch);

/* out (M×N) = [out +] s ⊙ (X·W), then the epilogue.  X: M×K, W: K×N. */
void gf_dense_nn(long M, long K, long N, const double *X, const double *W,
                 const double *rowScale, int accumulate, double *out, int epilogue, int activation,
                 double slope, const double *mask, double *out2, double *scratch);

/* Two products into one output (a tangent pass's R{z} = a·dWᵀ + db + R{a}·Wᵀ, or
   R{δ^a} = δ·dW + R{δ}·W), in one sweep over the rows:
   out = epilogue(s ⊙ ([bias +] X·Wᵀ) + X2·W2ᵀ), X2: M×K2, W2: N×K2 (nt), or
   out = epilogue(s ⊙ (X·W) + X2·W2), W2: K2×N (nn). */
void gf_dense_nt_pair(long M, long K, long N, const double *X, const double *W, const double *bias,
                      const double *rowScale, long K2, const double *X2, const double *W2, double *out, int epilogue,
                      int activation, double slope, const double *mask, double *out2, double *scratch);
void gf_dense_nn_pair(long M, long K, long N, const double *X, const double *W, const double *rowScale,
                      long K2, const double *X2, const double *W2, double *out, int epilogue, int activation,
                      double slope, const double *mask, double *out2, double *scratch);

/* G (N×K) += scale·Σ_r s_r D_rᵀA_r and, if gb is not NULL, gb (N) += scale·Σ_r s_r D_r.
   D: M×N, A: M×K, s: one factor per row (or NULL = 1). */
void gf_dense_tn(long M, long N, long K, const double *D, const double *A, const double *rowScale,
                 double scale, double *G, double *gb, double *scratch);

/* The same products in float (the same kernels built for float vectors of twice the numbers:
   16 per AVX-512 vector, 8 per AVX2 one; the 16- and 8-wide builds give bit-identical results).
   Scratch: gf_scratch_count(a, b) floats. No dot-product path: one or two outputs run on the rows
   path. */
void gf_dense_nt_f(long M, long K, long N, const float *X, const float *W, const float *bias,
                   const float *rowScale, int accumulate, float *out, int epilogue, int activation,
                   float slope, const float *mask, float *out2, float *scratch);
void gf_dense_nn_f(long M, long K, long N, const float *X, const float *W,
                   const float *rowScale, int accumulate, float *out, int epilogue, int activation,
                   float slope, const float *mask, float *out2, float *scratch);
void gf_dense_nt_pair_f(long M, long K, long N, const float *X, const float *W, const float *bias,
                        const float *rowScale, long K2, const float *X2, const float *W2, float *out, int epilogue,
                        int activation, float slope, const float *mask, float *out2, float *scratch);
void gf_dense_nn_pair_f(long M, long K, long N, const float *X, const float *W, const float *rowScale,
                        long K2, const float *X2, const float *W2, float *out, int epilogue, int activation,
                        float slope, const float *mask, float *out2, float *scratch);
void gf_dense_tn_f(long M, long N, long K, const float *D, const float *A, const float *rowScale,
                   float scale, float *G, float *gb, float *scratch);

/* 12·(2·width)·iterations float multiply-adds, as gf_fma_probe (the float kernels' peak). */
double gf_fma_probe_f(long iterations);

/* One sample's im2col (columns: C·k·k rows of H_o·W_o, row stride ld) of a (C, H, W) input for a
   convolution with kernel k, stride s and zero padding p, and its adjoint, which adds col2im(cols)
   into x; float (_f) and double (_d). AVX-512 permutes; the same numbers as the element-wise
   definitions (col2im's additions in their order). Return 0, doing nothing, where they do not
   apply (no AVX-512 or the 4-wide kernels chosen on this thread; W + 2p over two vectors or W_o
   over one): the caller's loops run then (gf_im2col.c). */
int gf_im2col_f(const float *x, float *cols, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo);
int gf_col2im_add_f(const float *cols, float *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo);
int gf_im2col_d(const double *x, double *cols, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo);
int gf_col2im_add_d(const double *cols, double *x, long ld, long C, long H, long W, long k, long s, long p, long Ho, long Wo);

/* y = conv(x, W) [+ y] [+ bias] for B samples (x: B × C × H × W, W: Co × C × k × k, y: B × Co × Ho × Wo,
   PyTorch's layouts), float, by a direct AVX-512 kernel (no im2col matrix; gf_conv.c). Returns 0,
   doing nothing, where it does not apply (gf_conv_forward_applies_f false, scratchCount below
   gf_conv_forward_scratch_f, no AVX-512 or the 4-wide kernels chosen on this thread). */
int gf_conv_forward_f(const float *x, const float *w, const float *bias, float *y, long B, int accumulate, long C, long H, long W, long Co,
                      long k, long s, long p, long Ho, long Wo, float *scratch, long scratchCount);
int gf_conv_forward_applies_f(long C, long Co, long k, long s, long Wo);
long gf_conv_forward_scratch_f(long C, long H, long W, long Co, long k, long s, long p, long Ho, long Wo);

/* gx (B × C × H × W) = convᵀ(g, W) [+ gx] for g: B × Co × Ho × Wo, the same convolution's adjoint in its
   input (a transposed convolution), float, by a direct AVX-512 kernel (gf_conv.c); 0 where it does
   not apply, as gf_conv_forward_f. */
int gf_conv_input_adjoint_f(const float *g, const float *w, float *gx, long B, int accumulate, long C, long H, long W, long Co, long k,
                            long s, long p, long Ho, long Wo, float *scratch, long scratchCount);
int gf_conv_input_adjoint_applies_f(long C, long W, long Co, long k, long s, long p);
long gf_conv_input_adjoint_scratch_f(long C, long H, long W, long Co, long k, long s, long p);

/* gw (Co × C·k²) += Σ over the B samples and the output positions of g ⊗ x's patches: the same
   convolution's adjoint in its weights (x: B × C × H × W, g: B × Co × Ho × Wo), float, by a direct
   AVX-512 kernel (gf_conv.c); 0 where it does not apply, as gf_conv_forward_f. */
int gf_conv_weight_adjoint_f(const float *x, const float *g, float *gw, long B, long C, long H, long W, long Co, long k, long s, long p,
                             long Ho, long Wo, float *scratch, long scratchCount);
int gf_conv_weight_adjoint_applies_f(long Co, long Ho, long Wo);
long gf_conv_weight_adjoint_scratch_f(long C, long H, long W, long Co, long k, long s, long p, long Ho, long Wo);

/* Multiply-adds done by the products above on the calling thread since it started (M·K·N per
   product, both products of a pair; bias, column sums and epilogues not counted). Differences of
   two readings give an operation's cost: a flop count the benchmark reports beside its timings. */
long long gf_multiply_adds(void);

/* Adds n to the calling thread's count (products computed elsewhere: the layers' GEMMs). */
void gf_count_multiply_adds(long long n);

/* 12·width·iterations multiply-adds on 12 independent chains of vectors of the running build's
   width (the FMA throughput the kernels can reach; for gameflow-bench kernels). */
double gf_fma_probe(long iterations);

/* The running build: 2 = AVX-512 (8-wide), 1 = AVX2/FMA (4-wide), 0 = baseline (4-wide). */
int gf_kernels_vectorized(void);

/* Doubles per vector of the running build (8 or 4). */
int gf_kernels_width(void);

/* For the calling thread only: run the build of this width (4, or 8 where the CPU has AVX-512),
   or 0 for the CPU's best. Returns 1, or 0 (and changes nothing) if the width is not available.
   For tests and benchmarks that compare the builds. */
int gf_kernels_set_width(int width);

/* 1 if this CPU can run the build of this width (4 always; 8 with AVX-512), else 0. */
int gf_kernels_width_available(int width);

/* RMSProp without time scales on n doubles, in place (Preconditioned.swift's loop, to the bit):
   d = (x − start)·inv, second = decay·second + (1 − decay)·d·d, x = start + h·d/√(second + eps).
   Returns 0 where the AVX-512 build does not run (then nothing is written). */
int gf_rmsprop_d(long n, double *x, const double *start, double *second, double inv, double h, double decay, double eps);

/* ReLU (leaky = 0) or leaky ReLU on n numbers: y = x > 0 ? r : (leaky ? slope·r : 0); with r = x
   the activation, with r a tangent or an adjoint its product by σ′ (Pointwise.swift's loops, to
   the bit). Returns 0 where the AVX-512 build does not run (then nothing is written). */
int gf_relu_f(const float *x, const float *r, float *y, long n, float slope, int leaky);
int gf_relu_d(const double *x, const double *r, double *y, long n, double slope, int leaky);

#endif
