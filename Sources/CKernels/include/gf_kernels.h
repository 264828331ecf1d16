#ifndef GF_KERNELS_H
#define GF_KERNELS_H
/*
 * Small dense kernels for GameFlow's MLPs: row-major batches (M rows) times small weight
 * matrices (widths of a few to a few hundred), with bias, activation and activation-derivative
 * epilogues fused into the product. At the paper's size (512 × 16 · 16 × 16) they run about
 * twice as fast as OpenBLAS dgemm, which packs and dispatches for large matrices.
 *
 * Portability: the file is compiled twice through `target_clones` — once for x86-64-v3
 * (AVX2 + FMA) and once for the baseline — and the loader picks the clone the CPU supports,
 * so one binary runs everywhere. Results can differ in the last bits between the two clones
 * (FMA rounds once); on one machine they are deterministic.
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

/* Doubles of scratch any of the calls below needs for a layer with widths a and b. */
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

/* Multiply-adds done by the products above on the calling thread since it started (M·K·N per
   product, both products of a pair; bias, column sums and epilogues not counted). Differences of
   two readings give an operation's cost: a flop count the benchmark reports beside its timings. */
long long gf_multiply_adds(void);

/* 48·iterations multiply-adds on independent chains of 4-wide vectors (the FMA throughput
   the kernels can reach; for gameflow-bench kernels). */
double gf_fma_probe(long iterations);

/* Whether the AVX2/FMA clone is the one running (for reports). */
int gf_kernels_vectorized(void);

#endif
