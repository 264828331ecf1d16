import CGSL

/// The arithmetic a network's passes run in. A game's state x, the schemes, the root finders and
/// every analysis stay in double precision whatever this is: a `.float32` network converts its
/// parameters, directions and inputs to float at its boundary, runs the four passes (forward,
/// JVP, VJP, R-backward) in float — the fused dense kernels' float build for narrow dense
/// layers, `cblas_sgemm` for the im2col and wide dense products, and on AVX-512 the direct
/// convolution kernels (`gf_conv.c`) for the convolutions they take — and returns its outputs and
/// gradients in double (`Network`, `NetworkWorkspace`).
///
/// Consequences for exactness: a float32 pass agrees with the float64 one to about float's
/// precision times the depth's growth (the tests hold their networks' and GANs' products within
/// 1e-4 relative), not to round-off in double; sums over a batch are in float. A float32 run is reproducible bit
/// for bit on the same build, host kernel width and thread count, like a float64 one (the direct
/// convolutions sum in another order than sgemm, so the AVX-512 and 4-wide kernel widths differ
/// in the last bits in float32; in float64 they agree).
public enum Precision: String, Sendable, Codable, CaseIterable {
    /// Single precision inside the networks (twice the multiply-adds per vector).
    case float32
    /// Double precision throughout (the default: earlier runs reproduce).
    case float64

    /// The unit round-off of the networks' arithmetic.
    public var epsilon: Double {
        switch self {
        case .float32: return Double(Float.ulpOfOne)
        case .float64: return Double.ulpOfOne
        }
    }
}

/// A floating-point type the networks' passes are written for (Float and Double): its GEMM.
public protocol NetworkScalar: BinaryFloatingPoint, Sendable {
    /// C = α·op(A)·op(B) + β·C, row-major (OpenBLAS `cblas_sgemm` / `cblas_dgemm`).
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int,
                     _ b: UnsafePointer<Self>, _ ldb: Int, _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
}

@inline(__always) private func transpose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Double: NetworkScalar {
    @inline(__always)
    public static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int,
                            _ b: UnsafePointer<Double>, _ ldb: Int, _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        cblas_dgemm(CblasRowMajor, transpose(transA), transpose(transB), Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}

extension Float: NetworkScalar {
    @inline(__always)
    public static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                            _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transpose(transA), transpose(transB), Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}
