import CSundials
import Foundation

/// The forcing term η of the inexact Newton condition ‖F + J·p‖ ≤ η‖F‖ (KINSOL's eta form).
public enum Forcing: Sendable, Equatable {
    /// Eisenstat–Walker choice 1 (KINSOL's default); costs one more JVP per Newton iteration.
    case eisenstatWalker1
    /// Eisenstat–Walker choice 2 (from the ratio of successive residual norms; no extra JVP).
    case eisenstatWalker2
    /// A constant η in (0, 1].
    case constant(Double)

    /// "ew1", "ew2" or a number in (0, 1].
    public static func parse(_ s: String) throws -> Forcing {
        switch s {
        case "ew1": return .eisenstatWalker1
        case "ew2": return .eisenstatWalker2
        default:
            guard let e = Double(s), e > 0, e <= 1 else {
                throw GameFlowError.invalidInput("--forcing must be ew1, ew2 or a number in (0, 1] (got '\(s)')")
            }
            return .constant(e)
        }
    }

    /// The command-line spelling.
    public var argument: String {
        switch self {
        case .eisenstatWalker1: return "ew1"
        case .eisenstatWalker2: return "ew2"
        case .constant(let e): return "\(e)"
        }
    }

    func validate() throws {
        if case .constant(let e) = self, !(e > 0 && e <= 1) {
            throw GameFlowError.invalidInput("constant forcing term must be in (0, 1] (got \(e))")
        }
    }
}

/// How `NewtonKrylovSolver` iterates.
public struct NewtonKrylovOptions: Sendable, Equatable {
    /// SPGMR's Krylov subspace dimension (maxl): GMRES iterations per Newton iteration at most.
    public var krylovDimension: Int
    /// KINSOL's backtracking line search on ½‖F‖², used once full Newton steps made the residual
    /// larger (false: full Newton steps only).
    public var lineSearch: Bool
    /// Forcing term η of the inexact Newton condition.
    public var forcing: Forcing
    /// A fixed budget: stop after `maxIterations` Newton iterations and accept the last iterate
    /// whatever its residual (inexact implicit schemes); otherwise not reaching the tolerance fails.
    public var fixedBudget: Bool

    /// Options with these values.
    public init(krylovDimension: Int = 50, lineSearch: Bool = true, forcing: Forcing = .eisenstatWalker2, fixedBudget: Bool = false) {
        self.krylovDimension = krylovDimension
        self.lineSearch = lineSearch
        self.forcing = forcing
        self.fixedBudget = fixedBudget
    }

    /// K Newton iterations of M GMRES iterations each, full steps, no early Krylov stop (η = 1e-14).
    public static func budget(krylovIterations m: Int) -> NewtonKrylovOptions {
        NewtonKrylovOptions(krylovDimension: m, lineSearch: false, forcing: .constant(1e-14), fixedBudget: true)
    }
}

/// SUNDIALS KINSOL's matrix-free inexact Newton method with SPGMR (restarted GMRES), the system's
/// exact Jacobian-vector products and KINSOL's line search — behind the `CSundials` shim, which
/// records KINSOL's error messages instead of printing them and gives its vectors optimised
/// operations.
///
/// A solve succeeds once max |Fᵢ(z)| ≤ tolerance × `system.toleranceScale(at: z)`: KINSOL is
/// asked for max|F| ≤ tolerance × the scale at the guess and the result is checked against the
/// scale at the root. With `fixedBudget` the solve stops after `maxIterations` Newton
/// iterations (or earlier at the tolerance) and always succeeds unless an evaluation fails.
/// Every KINSOL failure is a `failure` string with KINSOL's flag name and message.
///
/// Work per Newton iteration: one residual evaluation per line-search trial and one
/// Jacobian-vector product per GMRES iteration (plus one for the forcing term's ‖F + Jp‖).
public final class NewtonKrylovSolver: RootSolving {
    /// The number of unknowns.
    public let dimension: Int
    /// The relative residual tolerance.
    public let tolerance: Double
    /// The cap on Newton iterations.
    public let maxIterations: Int
    /// Krylov dimension, line search, forcing terms, fixed budget.
    public let options: NewtonKrylovOptions
    /// Accept a solve that stops short of `tolerance` once `system.backwardError` ≤ this.
    public let stallTolerance: Double?

    fileprivate let system: any RootSystem
    fileprivate var zBuffer: [Double]
    fileprivate var uBuffer: [Double]
    fileprivate var fBuffer: [Double]
    fileprivate var outBuffer: [Double]
    /// The unknowns of the last residual evaluation (fBuffer holds F there).
    fileprivate var lastEvaluated: [Double]
    fileprivate var lastValid = false
    private var chunkStart: [Double]
    /// Residual requests answered from `fBuffer` (KINSOL restarting at the last iterate).
    fileprivate var reused = 0
    fileprivate var failedEvaluation = false
    private let solver: OpaquePointer

    /// A KINSOL Newton–Krylov solver for `system` (its messages captured: failures become results, never prints or aborts).
    /// - Throws: `GameFlowError.invalidInput` for bad settings or when KINSOL cannot be set up.
    public init(system: any RootSystem, tolerance: Double, maxIterations: Int, options: NewtonKrylovOptions,
                stallTolerance: Double? = nil) throws {
        guard tolerance.isFinite, tolerance > 0 else {
            throw GameFlowError.invalidInput("root tolerance must be a finite number > 0 (got \(tolerance))")
        }
        guard maxIterations >= 1 else {
            throw GameFlowError.invalidInput("Newton iteration cap must be at least 1 (got \(maxIterations))")
        }
        guard (1...10_000).contains(options.krylovDimension) else {
            throw GameFlowError.invalidInput("Krylov dimension must be between 1 and 10000 (got \(options.krylovDimension))")
        }
        try options.forcing.validate()
        let n = system.dimension
        guard n >= 1 else { throw GameFlowError.invalidInput("root system has dimension \(n)") }
        // SPGMR keeps maxl + 1 basis vectors and a (maxl + 1)² Hessenberg matrix.
        let bytes = (Double(options.krylovDimension) + 12) * Double(n) * 8
        guard bytes <= 4e9 else {
            throw GameFlowError.invalidInput("Newton–Krylov with Krylov dimension \(options.krylovDimension) on \(n) unknowns needs \(Int(bytes / 1e6)) MB (limit 4000)")
        }
        self.dimension = n
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.options = options
        self.stallTolerance = stallTolerance
        self.system = system
        zBuffer = [Double](repeating: 0, count: n)
        uBuffer = zBuffer; fBuffer = zBuffer; outBuffer = zBuffer; lastEvaluated = zBuffer; chunkStart = zBuffer
        var message = [CChar](repeating: 0, count: 256)
        guard let s = gf_kinsol_create(n, Int32(min(options.krylovDimension, n)), &message, message.count) else {
            throw GameFlowError.invalidInput(String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        solver = s
    }

    deinit { gf_kinsol_free(solver) }

    /// Solves from the guess in `z` (see `RootSolving`).
    public func solve(_ z: inout [Double]) -> RootResult {
        precondition(z.count == dimension, "NewtonKrylovSolver.solve: guess has \(z.count) entries, expected \(dimension)")
        failedEvaluation = false
        lastValid = false
        reused = 0
        var result = RootResult(iterations: 0)
        var flag: Int32 = 0
        var out = gf_kinsol_result()
        var converged = false, ok = false
        // The residual at the guess (KINSOL's first evaluation then reuses it).
        for i in 0..<dimension { lastEvaluated[i] = z[i] }
        lastValid = system.residual(at: lastEvaluated, into: &fBuffer)
        result.residualEvaluations = 1
        let (etaChoice, etaConstant): (Int32, Double) = {
            switch options.forcing {
            case .eisenstatWalker1: return (1, 0.1)
            case .eisenstatWalker2: return (2, 0.1)
            case .constant(let e): return (0, e)
            }
        }()
        var previous = lastValid ? maxAbs(fBuffer) : .infinity
        var previousBackward = lastValid ? system.backwardError(residual: fBuffer, at: z) : .infinity
        var backward = previousBackward
        // Full Newton steps first; KINSOL's line search only once a chunk of full steps made
        // the residual larger (then the chunk is taken again from its start). `backward` is the
        // system's backward error of the current iterate, which the stall tolerance bounds.
        var lineSearch = false
        // KINSOL runs in chunks of at most two Newton iterations (restarting from the last
        // iterate costs nothing: its residual is reused). Between chunks: KINSOL's test is
        // max|F| ≤ a fixed number while ours is relative to the size of the iterate, so each
        // chunk asks for tolerance × the scale at its start; and a chunk that does not halve the
        // residual within the stall tolerance is a stall (with a discontinuous v — ReLU — Newton
        // stops converging at the size of a kink's jump) and is accepted.
        while true {
            let remaining = maxIterations - result.iterations
            if remaining <= 0 { break }
            let chunk = options.fixedBudget || stallTolerance == nil ? remaining : min(remaining, 2)
            let target = max(tolerance * system.toleranceScale(at: z), Double.leastNormalMagnitude)
            copyValues(z, into: &chunkStart)
            var settings = gf_kinsol_settings(
                max_iterations: chunk, fnorm_tolerance: target,
                // Steps are never too small to continue unless at round-off of the unknowns.
                step_tolerance: options.fixedBudget ? Double.leastNormalMagnitude : 1e-15,
                line_search: lineSearch ? 1 : 0,
                eta_choice: etaChoice, eta_constant: etaConstant,
                max_newton_step: 1e300)
            let context = Unmanaged.passUnretained(self).toOpaque()
            flag = z.withUnsafeMutableBufferPointer { zb in
                withExtendedLifetime(self) {
                    gf_kinsol_solve(solver, zb.baseAddress, &settings, nkResidual, nkJVP, context, &out)
                }
            }
            result.iterations += out.newton_iterations
            result.residualEvaluations += out.residual_evaluations
            result.krylovIterations += out.krylov_iterations
            result.jacobianVectorProducts += out.jvps
            result.backtracks += out.backtracks
            // The residual at the returned iterate: KINSOL's last evaluation is there when it
            // accepted that iterate; otherwise one more evaluation (counted).
            ok = !failedEvaluation && lastValid
            if !ok || !bitwiseEqual(z, lastEvaluated) {
                result.residualEvaluations += 1
                for i in 0..<dimension { lastEvaluated[i] = z[i] }
                ok = system.residual(at: lastEvaluated, into: &fBuffer)
                lastValid = ok
            }
            result.residual = ok ? maxAbs(fBuffer) : .infinity
            if !result.residual.isFinite { result.residual = .infinity }
            backward = ok ? system.backwardError(residual: fBuffer, at: z) : .infinity
            converged = result.residual <= tolerance * system.toleranceScale(at: z)
            if converged || options.fixedBudget || result.iterations >= maxIterations { break }
            if !(result.residual < previous) {
                // The chunk made things worse: go back to its start, which stalled there if
                // within the stall tolerance, and otherwise try it again with the line search.
                copyValues(chunkStart, into: &z)
                result.residual = previous
                backward = previousBackward
                lastValid = false
                let stalledThere = stallTolerance.map { previousBackward <= $0 } ?? false
                if options.lineSearch && !lineSearch && !stalledThere {
                    lineSearch = true
                    failedEvaluation = false
                    continue
                }
                converged = previous <= tolerance * system.toleranceScale(at: z)
                ok = previous.isFinite
                failedEvaluation = !ok
                break
            }
            if failedEvaluation || !ok { break }
            let chunkEnded = flag == Int32(-6) || flag == 0 || flag == 1
            // Slow progress is a stall once the iterate is acceptable as one; before that the
            // solve goes on while the residual falls at all (up to the iteration cap).
            let acceptable = stallTolerance.map { backward <= $0 } ?? false
            if !chunkEnded || (acceptable && result.residual > 0.5 * previous) { break }
            previous = result.residual
            previousBackward = backward
        }
        result.residualEvaluations -= reused
        let evaluationFailed = failedEvaluation || !ok || !result.residual.isFinite
        if !converged, !evaluationFailed, !options.fixedBudget, let eta = stallTolerance,
           backward <= eta {
            result.stalled = true
            return result
        }
        if evaluationFailed || (!converged && !options.fixedBudget) {
            let name = String(cString: gf_kinsol_flag_name(flag))
            let said = withUnsafeBytes(of: out.message) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            var why = "KINSOL Newton–Krylov stopped with \(name) (flag \(flag)) after \(result.iterations) Newton and \(result.krylovIterations) Krylov iterations"
            if !said.isEmpty { why += ": " + said }
            if evaluationFailed { why += "; the solver reached a point where the system is not finite" }
            result.failure = why + " (residual max|F| = \(result.residual), relative tolerance \(tolerance); relative backward error \(backward))"
        }
        return result
    }

    // MARK: Callbacks (called by KINSOL through the shim)

    fileprivate func callResidual(_ w: UnsafePointer<Double>, _ f: UnsafeMutablePointer<Double>) -> Int32 {
        let n = dimension
        let same = lastValid && lastEvaluated.withUnsafeBufferPointer { memcmp($0.baseAddress!, w, n * MemoryLayout<Double>.size) == 0 }
        if same {
            reused += 1
        } else {
            for i in 0..<n { lastEvaluated[i] = w[i] }
            lastValid = false
            guard system.residual(at: lastEvaluated, into: &fBuffer) else { failedEvaluation = true; return -1 }
            lastValid = true
        }
        for i in 0..<n {
            let v = fBuffer[i]
            guard v.isFinite else { failedEvaluation = true; return -1 }
            f[i] = v
        }
        return 0
    }

    fileprivate func callJVP(_ w: UnsafePointer<Double>, _ u: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) -> Int32 {
        let n = dimension
        for i in 0..<n { zBuffer[i] = w[i]; uBuffer[i] = u[i] }
        guard system.jacobianVectorProduct(at: zBuffer, uBuffer, into: &outBuffer) else { failedEvaluation = true; return -1 }
        for i in 0..<n {
            let v = outBuffer[i]
            guard v.isFinite else { failedEvaluation = true; return -1 }
            out[i] = v
        }
        return 0
    }
}

private func bitwiseEqual(_ a: [Double], _ b: [Double]) -> Bool {
    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
        memcmp(pa.baseAddress!, pb.baseAddress!, pa.count * MemoryLayout<Double>.size) == 0 } }
}

private func nkSolver(_ p: UnsafeMutableRawPointer?) -> NewtonKrylovSolver {
    Unmanaged<NewtonKrylovSolver>.fromOpaque(p!).takeUnretainedValue()
}

private let nkResidual: gf_residual_fn = { w, f, p in nkSolver(p).callResidual(w!, f!) }
private let nkJVP: gf_jvp_fn = { w, u, out, _, p in nkSolver(p).callJVP(w!, u!, out!) }
