import CGSL

/// A square nonlinear system F(z) = 0 for the root solvers (GSL's dense hybrid methods and
/// KINSOL's Newton–Krylov). Conformers fill `residual` (F(z)) and, as far as they can, `jacobian`
/// (dense row-major J_F(z)) and `jacobianVectorProduct` (J_F(z)·u); returning false signals a
/// non-finite or failed evaluation. A solve succeeds once max |Fᵢ(z)| ≤ tolerance ×
/// `toleranceScale(at: z)`.
public protocol RootSystem: AnyObject {
    /// The number of unknowns (and of equations).
    var dimension: Int { get }
    /// F(z) into `f`; false when it is not finite.
    func residual(at z: [Double], into f: inout [Double]) -> Bool
    /// The dense row-major Jacobian of F at z into `j`; false on failure.
    func jacobian(at z: [Double], into j: inout [Double]) -> Bool
    /// J_F(z)·u into `out`; false on failure.
    func jacobianVectorProduct(at z: [Double], _ u: [Double], into out: inout [Double]) -> Bool
    /// What the tolerance is relative to at the iterate z (> 0, or 0 to demand F = 0 exactly).
    func toleranceScale(at z: [Double]) -> Double
    /// The relative backward error of the iterate z whose residual is f (see `ImplicitStage`):
    /// what the stall tolerance bounds.
    func backwardError(residual f: [Double], at z: [Double]) -> Double
}

/// A root solver owned by one run: `solve` starts from the guess in `z` and leaves the root (or
/// the last iterate) there. GSL's `RootSolver` and KINSOL's `NewtonKrylovSolver` conform.
public protocol RootSolving: AnyObject {
    /// Solves from the guess in `z`, leaving the root (or the last iterate) there.
    func solve(_ z: inout [Double]) -> RootResult
}

/// The root solvers by their command-line names (`--root-solver`).
public enum RootMethod: String, Sendable, CaseIterable {
    /// `gsl_multiroot_fdfsolver_hybridsj`: dense, with the system's exact Jacobian.
    case hybridsj
    /// `gsl_multiroot_fsolver_hybrids`: dense, Jacobian by GSL's internal finite differences.
    case hybrids
    /// SUNDIALS KINSOL: matrix-free inexact Newton with SPGMR on exact Jacobian-vector products,
    /// a line search and Eisenstat–Walker forcing terms (`NewtonKrylovSolver`).
    case newtonKrylov = "newton-krylov"
    /// Dense GSL (`hybridsj` with exact derivatives, else `hybrids`) up to `RootMethod.denseLimit`
    /// unknowns, Newton–Krylov above.
    case auto

    /// The largest system `auto` solves densely.
    public static let denseLimit = 100

    /// The method `auto` (or an explicit choice) means for a system of `dimension` unknowns.
    public func resolved(dimension: Int, exactDerivatives: Bool) -> RootMethod {
        guard self == .auto else { return self }
        if dimension > Self.denseLimit { return .newtonKrylov }
        return exactDerivatives ? .hybridsj : .hybrids
    }

    /// Parses a command-line name; the error lists the valid ones.
    public static func parse(_ s: String) throws -> RootMethod {
        guard let m = RootMethod(rawValue: s) else {
            throw GameFlowError.invalidInput("unknown root solver '\(s)' (expected one of: \(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return m
    }
}

/// The outcome of one solve.
public struct RootResult: Sendable {
    /// nil on success, otherwise why the solve failed (with GSL's reason where GSL gave one).
    public var failure: String?
    /// Solver iterations (GSL iterations or Newton iterations).
    public var iterations: Int
    /// max |Fᵢ(z)| at the returned z.
    public var residual: Double
    /// Evaluations of F.
    public var residualEvaluations: Int
    /// Dense Jacobian evaluations.
    public var jacobianEvaluations: Int
    /// Newton–Krylov only: Krylov (GMRES) iterations, Jacobian-vector products and line-search
    /// backtracks, summed over the solve's Newton iterations (`iterations`).
    public var krylovIterations = 0
    /// J_F·u products (Newton–Krylov).
    public var jacobianVectorProducts = 0
    /// Line-search backtracks (Newton–Krylov).
    public var backtracks = 0
    /// The solver stopped short of the tolerance but within the stall tolerance (accepted).
    public var stalled = false

    /// A result from its counts.
    public init(failure: String? = nil, iterations: Int = 0, residual: Double = .infinity,
                residualEvaluations: Int = 0, jacobianEvaluations: Int = 0) {
        self.failure = failure
        self.iterations = iterations
        self.residual = residual
        self.residualEvaluations = residualEvaluations
        self.jacobianEvaluations = jacobianEvaluations
    }
}

/// Owns one GSL solver, its callback structs and vectors for the lifetime of a run; `solve`
/// allocates nothing. Convergence is decided by the residual, max |Fᵢ(z)| ≤ tolerance ×
/// `system.toleranceScale(at: z)`, not by GSL's
/// iteration status alone: on (nearly) linear systems hybridsj's first step is exact and GSL
/// then reports "not making progress" although the residual is at round-off (toolchain §10).
///
/// **Stiff systems.** When F's round-off exceeds that bound (a stiff game: z − x − h·v(z) with
/// h‖v′‖ ≫ 1 has round-off of order ε·h‖v′‖·|z| while the tolerance is relative to |z|), a solve
/// whose residual stagnates or that GSL gives up on is also accepted once the Newton correction
/// is: max |(J_F⁻¹F)ᵢ| ≤ tolerance × `toleranceScale` (the convergence test of stiff ODE
/// solvers), by an LU of the solver's latest Jacobian (preallocated; no allocation per solve).
///
/// **Both methods run GSL's `hybridsj`.** `hybrids` differs only in its Jacobian: forward
/// differences of F with increments δⱼ = √ε·max(|zⱼ|, `toleranceScale(at: z)`), in the scale of
/// the whole iterate. (GSL's own `hybrids` takes δⱼ = √ε·|zⱼ| per component: for the implicit
/// schemes' unknowns, increments whose components can be many orders below the state's scale, that
/// made Jacobian columns of round-off and ended solves "not making progress" at h ≥ 10.)
public final class RootSolver: RootSolving {
    /// The number of unknowns.
    public let dimension: Int
    /// `hybridsj` or `hybrids`.
    public let method: RootMethod
    /// The relative residual tolerance.
    public let tolerance: Double
    /// The iteration cap.
    public let maxIterations: Int
    /// Accept a solve that stops short of `tolerance` once `system.backwardError` ≤ this.
    public let stallTolerance: Double?

    fileprivate let system: any RootSystem
    fileprivate var residualEvaluations = 0
    fileprivate var jacobianEvaluations = 0
    fileprivate var failedEvaluation = false
    fileprivate var zBuffer: [Double]
    fileprivate var fBuffer: [Double]
    fileprivate var jBuffer: [Double]
    fileprivate var f1Buffer: [Double]

    private let guess: UnsafeMutablePointer<gsl_vector>
    private var fdfSolver: UnsafeMutablePointer<gsl_multiroot_fdfsolver>?
    private var fdfFunction: UnsafeMutablePointer<gsl_multiroot_function_fdf>?
    // The Newton-correction test's LU (see the type's docs).
    private let luMatrix: UnsafeMutablePointer<gsl_matrix>
    private let luPermutation: UnsafeMutablePointer<gsl_permutation>
    private let luVector: UnsafeMutablePointer<gsl_vector>

    /// A GSL dense root solver for `system` (its error handler captured: failures become results, never aborts).
    /// - Parameters:
    ///   - system: the equations F(z) = 0 (with their Jacobian for `hybridsj`).
    ///   - method: `hybridsj` or `hybrids` (Newton–Krylov is `NewtonKrylovSolver`).
    ///   - tolerance: accept z once max |Fᵢ(z)| ≤ tolerance × `system.toleranceScale(at: z)` (> 0).
    ///   - maxIterations: iteration cap (≥ 1); reaching it is a failure.
    ///   - stallTolerance: accept a stalled solve whose relative backward error is at most this (nil: never).
    public init(system: any RootSystem, method: RootMethod, tolerance: Double, maxIterations: Int,
                stallTolerance: Double? = nil) throws {
        GSL.initialize()
        guard tolerance.isFinite, tolerance > 0 else {
            throw GameFlowError.invalidInput("root tolerance must be a finite number > 0 (got \(tolerance))")
        }
        guard maxIterations >= 1 else {
            throw GameFlowError.invalidInput("root-solver iteration cap must be at least 1 (got \(maxIterations))")
        }
        let n = system.dimension
        guard n >= 1 else { throw GameFlowError.invalidInput("root system has dimension \(n)") }
        guard method == .hybridsj || method == .hybrids else {
            throw GameFlowError.invalidInput("GSL's root solver is hybridsj or hybrids (got \(method.rawValue))")
        }
        // hybridsj keeps n² doubles of its own and we one more copy: refuse what cannot fit
        // before GSL tries (a failed GSL allocation is reported, but the attempt itself may
        // take the machine's memory).
        guard n <= 20_000 else {
            throw GameFlowError.invalidInput("a dense root solve of \(n) unknowns needs \(n * n * 8 * 3 / 1_000_000) MB; use --root-solver newton-krylov")
        }
        self.dimension = n
        self.method = method
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.stallTolerance = stallTolerance
        self.system = system
        self.zBuffer = [Double](repeating: 0, count: n)
        self.fBuffer = [Double](repeating: 0, count: n)
        self.jBuffer = [Double](repeating: 0, count: n * n)
        self.f1Buffer = [Double](repeating: 0, count: n)
        guard let g = gsl_vector_alloc(n), let lu = gsl_matrix_alloc(n, n), let perm = gsl_permutation_alloc(n),
              let lv = gsl_vector_alloc(n) else {
            throw GameFlowError.invalidInput("GSL could not allocate a dense solver of size \(n)")
        }
        self.guess = g
        self.luMatrix = lu
        self.luPermutation = perm
        self.luVector = lv
        let params = Unmanaged.passUnretained(self).toOpaque()
        // On a throw here deinit still runs (every stored property is set) and frees the
        // vectors: freeing them here as well was a double free when GSL could not allocate.
        guard let solver = gsl_multiroot_fdfsolver_alloc(cgsl_fdf_hybridsj(), n) else {
            throw GameFlowError.invalidInput("GSL could not allocate a \(method.rawValue) solver of size \(n)")
        }
        fdfSolver = solver
        // GSL keeps a pointer to this struct, so it lives on the heap as long as the solver.
        let fn = UnsafeMutablePointer<gsl_multiroot_function_fdf>.allocate(capacity: 1)
        fn.initialize(to: gsl_multiroot_function_fdf(
            f: { z, p, f in solverFrom(p).callResidual(z!, f!) },
            df: { z, p, j in solverFrom(p).callJacobian(z!, j!, residualKnown: false) },
            fdf: { z, p, f, j in
                let s = solverFrom(p)
                let st = s.callResidual(z!, f!)
                return st != Int32(GSL_SUCCESS) ? st : s.callJacobian(z!, j!, residualKnown: true)
            },
            n: n, params: params))
        fdfFunction = fn
    }

    deinit {
        if let s = fdfSolver { gsl_multiroot_fdfsolver_free(s) }
        fdfFunction?.deallocate()
        gsl_vector_free(guess)
        gsl_matrix_free(luMatrix)
        gsl_permutation_free(luPermutation)
        gsl_vector_free(luVector)
    }

    /// Solves F(z) = 0 from the initial guess `z` and writes the root (or the last iterate) into `z`.
    public func solve(_ z: inout [Double]) -> RootResult {
        precondition(z.count == dimension, "RootSolver.solve: guess has \(z.count) entries, expected \(dimension)")
        let solver = fdfSolver!
        residualEvaluations = 0
        jacobianEvaluations = 0
        failedEvaluation = false
        for i in 0..<dimension { gsl_vector_set(guess, i, z[i]) }
        var result = RootResult(failure: nil, iterations: 0, residual: .infinity,
                                residualEvaluations: 0, jacobianEvaluations: 0)
        let setStatus = withExtendedLifetime(self) { gsl_multiroot_fdfsolver_set(solver, fdfFunction, guess) }
        if setStatus != Int32(GSL_SUCCESS) {
            result.failure = describe(setStatus, "setting up the solver")
            finish(&result, &z)
            return result
        }
        result.residual = currentResidual()
        func accepted() -> Bool { result.residual <= tolerance * currentScale() }
        while !accepted() {
            if result.iterations >= maxIterations {
                if newtonCorrectionAccepted() { break }
                result.failure = "no root within \(maxIterations) iterations (residual max|F| = \(result.residual), relative tolerance \(tolerance))"
                break
            }
            let before = result.residual
            let status = withExtendedLifetime(self) { gsl_multiroot_fdfsolver_iterate(solver) }
            result.iterations += 1
            result.residual = currentResidual()
            if accepted() { break }
            // A residual that stagnates (or a solver that gives up) at round-off: the Newton
            // correction decides (stiff systems; see the type's docs).
            if status != Int32(GSL_SUCCESS) || !(result.residual < 0.5 * before) {
                if !failedEvaluation, newtonCorrectionAccepted() { break }
                if status != Int32(GSL_SUCCESS) {
                    result.failure = describe(status, "iteration \(result.iterations)") + " (residual max|F| = \(result.residual))"
                    break
                }
            }
        }
        if result.failure != nil, !failedEvaluation, let eta = stallTolerance,
           currentBackwardError() <= eta {
            result.failure = nil
            result.stalled = true
        }
        finish(&result, &z)
        return result
    }

    private func describe(_ status: Int32, _ when: String) -> String {
        let gsl = "GSL \(method.rawValue) failed at \(when): \(GSL.reason(status)) (GSL status \(status))"
        return failedEvaluation ? gsl + "; the solver reached a point where the system is not finite" : gsl
    }

    private func currentResidual() -> Double {
        let f = fdfSolver!.pointee.f!
        var m = 0.0
        for i in 0..<dimension {
            let v = abs(gsl_vector_get(f, i))
            if !v.isFinite { return .infinity }
            m = max(m, v)
        }
        return m
    }

    /// max|(J⁻¹F)ᵢ| ≤ tolerance × scale at the current iterate, with J the solver's latest
    /// Jacobian (an LU into preallocated storage; a singular J decides nothing).
    private func newtonCorrectionAccepted() -> Bool {
        let s = fdfSolver!
        guard let j = s.pointee.J, let f = s.pointee.f, currentResidual().isFinite else { return false }
        gsl_matrix_memcpy(luMatrix, j)
        var signum: Int32 = 0
        guard gsl_linalg_LU_decomp(luMatrix, luPermutation, &signum) == Int32(GSL_SUCCESS) else { return false }
        for i in 0..<dimension where gsl_matrix_get(luMatrix, i, i) == 0 { return false }
        guard gsl_linalg_LU_solve(luMatrix, luPermutation, f, luVector) == Int32(GSL_SUCCESS) else { return false }
        var m = 0.0
        for i in 0..<dimension {
            let v = abs(gsl_vector_get(luVector, i))
            guard v.isFinite else { return false }
            m = max(m, v)
        }
        return m <= tolerance * currentScale()
    }

    /// The system's backward error at the solver's current iterate and residual.
    private func currentBackwardError() -> Double {
        let x = fdfSolver!.pointee.x!
        let f = fdfSolver!.pointee.f!
        for i in 0..<dimension { zBuffer[i] = gsl_vector_get(x, i); fBuffer[i] = gsl_vector_get(f, i) }
        return system.backwardError(residual: fBuffer, at: zBuffer)
    }

    /// The system's tolerance scale at the solver's current iterate.
    private func currentScale() -> Double {
        let x = fdfSolver!.pointee.x!
        for i in 0..<dimension { zBuffer[i] = gsl_vector_get(x, i) }
        return system.toleranceScale(at: zBuffer)
    }

    private func finish(_ result: inout RootResult, _ z: inout [Double]) {
        result.residualEvaluations = residualEvaluations
        result.jacobianEvaluations = jacobianEvaluations
        guard let r = fdfSolver?.pointee.x else { return }
        for i in 0..<dimension { z[i] = gsl_vector_get(r, i) }
    }

    // MARK: Callbacks (called by GSL through `params`)

    fileprivate func callResidual(_ z: UnsafePointer<gsl_vector>, _ f: UnsafeMutablePointer<gsl_vector>) -> Int32 {
        residualEvaluations += 1
        for i in 0..<dimension { zBuffer[i] = gsl_vector_get(z, i) }
        let ok = system.residual(at: zBuffer, into: &fBuffer)
        guard ok, fBuffer.allSatisfy(\.isFinite) else { failedEvaluation = true; return Int32(GSL_EBADFUNC) }
        for i in 0..<dimension { gsl_vector_set(f, i, fBuffer[i]) }
        return Int32(GSL_SUCCESS)
    }

    /// The exact Jacobian (`hybridsj`) or forward differences in the iterate's scale (`hybrids`;
    /// `residualKnown`: fBuffer already holds F(z), as after `callResidual` at the same z).
    fileprivate func callJacobian(_ z: UnsafePointer<gsl_vector>, _ j: UnsafeMutablePointer<gsl_matrix>,
                                  residualKnown: Bool) -> Int32 {
        let n = dimension
        for i in 0..<n { zBuffer[i] = gsl_vector_get(z, i) }
        if method == .hybridsj {
            jacobianEvaluations += 1
            let ok = system.jacobian(at: zBuffer, into: &jBuffer)
            guard ok, jBuffer.allSatisfy(\.isFinite) else { failedEvaluation = true; return Int32(GSL_EBADFUNC) }
        } else {
            if !residualKnown {
                residualEvaluations += 1
                guard system.residual(at: zBuffer, into: &fBuffer), fBuffer.allSatisfy(\.isFinite) else {
                    failedEvaluation = true; return Int32(GSL_EBADFUNC)
                }
            }
            let root = Double.ulpOfOne.squareRoot()
            let scale = system.toleranceScale(at: zBuffer)
            for k in 0..<n {
                let zk = zBuffer[k]
                var delta = root * max(abs(zk), scale)
                if !(delta > 0 && delta.isFinite) { delta = root }
                zBuffer[k] = zk + delta
                delta = zBuffer[k] - zk          // the increment actually taken
                residualEvaluations += 1
                let ok = system.residual(at: zBuffer, into: &f1Buffer)
                zBuffer[k] = zk
                guard ok, f1Buffer.allSatisfy(\.isFinite) else { failedEvaluation = true; return Int32(GSL_EBADFUNC) }
                for i in 0..<n { jBuffer[i * n + k] = (f1Buffer[i] - fBuffer[i]) / delta }
            }
        }
        for i in 0..<n { for k in 0..<n { gsl_matrix_set(j, i, k, jBuffer[i * n + k]) } }
        return Int32(GSL_SUCCESS)
    }
}

private func solverFrom(_ p: UnsafeMutableRawPointer?) -> RootSolver {
    Unmanaged<RootSolver>.fromOpaque(p!).takeUnretainedValue()
}
