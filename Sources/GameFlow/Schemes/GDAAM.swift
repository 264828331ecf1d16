import Foundation

/// GDA-AM: Anderson mixing of the SimGA map g(x) = x + h·v(x) (type-II Anderson acceleration,
/// Walker & Ni 2011), depth m:
///
///     f_k = g(x_k) − x_k = h·v(x_k),  ΔF = [f_{i+1} − f_i], ΔG = [g(x_{i+1}) − g(x_i)] over the last m,
///     γ_k = argmin_γ ‖f_k − ΔF·γ‖₂,   x_{k+1} = g(x_k) − ΔG·γ_k,
///
/// with γ by a QR factorisation of ΔF (modified Gram–Schmidt, reorthogonalised; columns whose
/// new direction is below 1e-12 of their norm are left out). On a linear game g is affine and
/// Anderson mixing with depth ≥ n is GMRES on (I − G′)x = b in disguise: it reaches the
/// equilibrium in at most n + 1 steps in exact arithmetic, for any h — where SimGA itself
/// diverges on a bilinear game. The issue asks for KINSOL's Anderson-accelerated fixed-point
/// iteration: KINSOL restarts its Anderson history at every `KINSol` call, so one accelerated
/// iterate per training step (counted, checkpointed, resumable like every scheme) is written
/// here instead; the least squares is m × m.
///
/// **Safeguard.** Anderson mixing is a multisecant root finder for v = 0; far from an
/// equilibrium of a nonlinear game its extrapolation can run away (without the safeguard the
/// Dirac-GAN with R1 0.3 from (1, 1) at h = 0.05, depth 5, reaches ‖x‖ ≈ 1.5·10⁸ in 40 steps).
/// An accelerated step that more than doubles ‖v‖ (`growthLimit`) is replaced by the plain SimGA
/// step from the same point and the history restarts (the rejected point's evaluation is
/// counted). The residual of the accelerated iterates need not fall monotonically even on linear
/// games (SimGA's map expands on rotations), hence a factor and not a strict decrease. With it the
/// Dirac-GAN run above stays bounded, but it drifts into the saturated region (θψ large) where
/// ‖v‖ is small far from the equilibrium: a root finder for v = 0 follows ‖v‖, not the flow.
///
/// On minibatches (a different map g_k each step) the history mixes residuals of different
/// maps as if they were one, and ‖v‖ of different batches is compared: a heuristic
/// extrapolation without the linear theory above.
///
/// Order 1 (for m = 0 it is SimGA). Work per step: one evaluation of v and O(n·m²) arithmetic;
/// the state carries the last m differences (2m·n numbers).
///
/// Reference: He, Balzano, Chen, Tang, "GDA-AM: On the effectiveness of solving minimax
/// optimization via Anderson acceleration" (ICLR 2022); Walker & Ni, "Anderson acceleration for
/// fixed-point iterations" (SIAM J. Numer. Anal. 2011).
public struct GDAAM: Scheme {
    /// The depth m (differences kept).
    public let depth: Int

    /// The safeguard: an accelerated step that multiplies ‖v‖ by more than this is replaced.
    public static let growthLimit = 2.0

    /// GDA-AM with depth m.
    /// - Parameter depth: m ≥ 0 (0: SimGA), at most 1000.
    public init(depth: Int) throws {
        guard (0...1000).contains(depth) else { throw GameFlowError.invalidInput("--anderson-depth must be between 0 and 1000 (got \(depth))") }
        self.depth = depth
    }

    public var name: String { "gda-am" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    /// The history and the least-squares work space.
    public struct Cache {
        var f: [Double], g: [Double], previousF: [Double], previousG: [Double]
        /// ΔF and ΔG, column j at j·n (oldest first), and Q (n × m).
        var dF: [Double], dG: [Double], q: [Double]
        var r: [Double], gamma: [Double], kept: [Bool]
        /// Columns filled, and whether a previous (f, g) exists.
        var count = 0
        var hasPrevious = false
        /// Whether the last step was accelerated, and ‖f‖ where it started.
        var accelerated = false
        var previousNorm = 0.0
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        let n = game.dimension, m = max(depth, 1)
        let z = [Double](repeating: 0, count: n)
        return Cache(f: z, g: z, previousF: z, previousG: z, dF: [Double](repeating: 0, count: n * m), dG: [Double](repeating: 0, count: n * m),
                     q: [Double](repeating: 0, count: n * m), r: [Double](repeating: 0, count: m * m), gamma: [Double](repeating: 0, count: m),
                     kept: [Bool](repeating: false, count: m))
    }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache c: inout Cache, context: inout StepContext<G>) -> StepResult {
        let n = x.count
        context.evaluate(x, into: &c.f)
        for i in 0..<n { c.f[i] *= h; c.g[i] = x[i] + c.f[i] }
        let norm = norm2(c.f)
        if c.accelerated && !(norm <= Self.growthLimit * c.previousNorm) {
            // The accelerated step more than doubled ‖v‖: take the plain step from its start instead.
            copyValues(c.previousG, into: &x)
            c.count = 0
            c.hasPrevious = false
            c.accelerated = false
            return .success
        }
        guard norm.isFinite else { return .failure("gda-am: v(x) is not finite") }
        if depth > 0 && c.hasPrevious {
            // Append the newest differences, dropping the oldest column when full.
            if c.count == depth {
                for j in 1..<depth {
                    for i in 0..<n { c.dF[(j - 1) * n + i] = c.dF[j * n + i]; c.dG[(j - 1) * n + i] = c.dG[j * n + i] }
                }
                c.count -= 1
            }
            let o = c.count * n
            for i in 0..<n { c.dF[o + i] = c.f[i] - c.previousF[i]; c.dG[o + i] = c.g[i] - c.previousG[i] }
            c.count += 1
        }
        copyValues(c.f, into: &c.previousF)
        copyValues(c.g, into: &c.previousG)
        c.hasPrevious = true
        c.previousNorm = norm
        for i in 0..<n { x[i] = c.g[i] }
        c.accelerated = c.count > 0
        guard c.count > 0 else { return .success }
        solveLeastSquares(&c, n: n)
        for j in 0..<c.count where c.kept[j] {
            let gj = c.gamma[j], o = j * n
            for i in 0..<n { x[i] -= gj * c.dG[o + i] }
        }
        return .success
    }

    /// γ = argmin ‖f − ΔF·γ‖ by modified Gram–Schmidt with one reorthogonalisation.
    private func solveLeastSquares(_ c: inout Cache, n: Int) {
        let m = c.count
        for j in 0..<m {
            let o = j * n
            for i in 0..<n { c.q[o + i] = c.dF[o + i] }
            var norm0 = 0.0
            for i in 0..<n { norm0 += c.q[o + i] * c.q[o + i] }
            norm0 = norm0.squareRoot()
            for l in 0..<m { c.r[l * m + j] = 0 }
            for _ in 0..<2 {
                for k in 0..<j where c.kept[k] {
                    var d = 0.0
                    for i in 0..<n { d += c.q[k * n + i] * c.q[o + i] }
                    c.r[k * m + j] += d
                    for i in 0..<n { c.q[o + i] -= d * c.q[k * n + i] }
                }
            }
            var norm = 0.0
            for i in 0..<n { norm += c.q[o + i] * c.q[o + i] }
            norm = norm.squareRoot()
            c.kept[j] = norm0 > 0 && norm > 1e-12 * norm0
            c.r[j * m + j] = c.kept[j] ? norm : 0
            if c.kept[j] { for i in 0..<n { c.q[o + i] /= norm } }
        }
        // R·γ = Qᵀf over the kept columns (back substitution).
        for j in stride(from: m - 1, through: 0, by: -1) {
            guard c.kept[j] else { c.gamma[j] = 0; continue }
            var s = 0.0
            for i in 0..<n { s += c.q[j * n + i] * c.f[i] }
            for k in (j + 1)..<m where c.kept[k] { s -= c.r[j * m + k] * c.gamma[k] }
            c.gamma[j] = s / c.r[j * m + j]
        }
    }

    /// [columns filled, has previous, last step accelerated, ‖f‖ at its start, previous f…,
    /// previous g…, ΔF…, ΔG… (filled columns)].
    public func carried(_ c: Cache) -> [Double] {
        let n = c.f.count
        return [Double(c.count), c.hasPrevious ? 1 : 0, c.accelerated ? 1 : 0, c.previousNorm] + c.previousF + c.previousG + Array(c.dF[0..<(c.count * n)]) + Array(c.dG[0..<(c.count * n)])
    }

    public func restoreCarried(_ values: [Double], into c: inout Cache) throws {
        let n = c.f.count
        guard values.count >= 4, let m = Int(exactly: values[0]), m >= 0, m <= depth, values.count == 4 + 2 * n + 2 * m * n else {
            throw GameFlowError.invalidInput("gda-am carries its history (at most \(depth) differences of \(n) numbers); the checkpoint's does not fit")
        }
        c.count = m
        c.hasPrevious = values[1] != 0
        c.accelerated = values[2] != 0
        c.previousNorm = values[3]
        for i in 0..<n { c.previousF[i] = values[4 + i]; c.previousG[i] = values[4 + n + i] }
        for i in 0..<(m * n) { c.dF[i] = values[4 + 2 * n + i]; c.dG[i] = values[4 + 2 * n + m * n + i] }
    }

    /// Anderson mixing's step depends on its history: no fixed one-step map of x alone.
    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        throw GameFlowError.invalidInput("gda-am: no one-step map (each step depends on the last \(depth) iterates)")
    }
}
