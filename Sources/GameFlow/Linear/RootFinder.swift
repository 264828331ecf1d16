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

    private let guess: UnsafeMutablePointer<gsl_vector>
    private var fdfSolver: UnsafeMutablePointer<gsl_multiroot_fdfsolver>?
    private var fSolver: UnsafeMutablePointer<gsl_multiroot_fsolver>?
    private var fdfFunction: UnsafeMutablePointer<gsl_multiroot_function_fdf>?
    private var fFunction: UnsafeMutablePointer<gsl_multiroot_function>?

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
        self.jBuffer = method == .hybridsj ? [Double](repeating: 0, count: n * n) : []
        guard let g = gsl_vector_alloc(n) else { throw GameFlowError.invalidInput("GSL could not allocate a vector of length \(n)") }
        self.guess = g
        let params = Unmanaged.passUnretained(self).toOpaque()
        switch method {
        case .hybridsj:
            // On a throw here deinit still runs (every stored property is set) and frees `guess`:
            // freeing it here as well was a double free when GSL could not allocate.
            guard let s = gsl_multiroot_fdfsolver_alloc(cgsl_fdf_hybridsj(), n) else {
                throw GameFlowError.invalidInput("GSL could not allocate a hybridsj solver of size \(n)")
            }
            fdfSolver = s
            // GSL keeps a pointer to this struct, so it lives on the heap as long as the solver.
            let fn = UnsafeMutablePointer<gsl_multiroot_function_fdf>.allocate(capacity: 1)
            fn.initialize(to: gsl_multiroot_function_fdf(
                f: { z, p, f in solverFrom(p).callResidual(z!, f!) },
                df: { z, p, j in solverFrom(p).callJacobian(z!, j!) },
                fdf: { z, p, f, j in
                    let s = solverFrom(p)
                    let st = s.callResidual(z!, f!)
                    return st != Int32(GSL_SUCCESS) ? st : s.callJacobian(z!, j!)
                },
                n: n, params: params))
            fdfFunction = fn
        default:
            guard let s = gsl_multiroot_fsolver_alloc(cgsl_f_hybrids(), n) else {
                throw GameFlowError.invalidInput("GSL could not allocate a hybrids solver of size \(n)")
            }
            fSolver = s
            let fn = UnsafeMutablePointer<gsl_multiroot_function>.allocate(capacity: 1)
            fn.initialize(to: gsl_multiroot_function(
                f: { z, p, f in solverFrom(p).callResidual(z!, f!) }, n: n, params: params))
            fFunction = fn
        }
    }

    deinit {
        if let s = fdfSolver { gsl_multiroot_fdfsolver_free(s) }
        if let s = fSolver { gsl_multiroot_fsolver_free(s) }
        fdfFunction?.deallocate()
        fFunction?.deallocate()
        gsl_vector_free(guess)
    }

    /// Solves F(z) = 0 from the initial guess `z` and writes the root (or the last iterate) into `z`.
    public func solve(_ z: inout [Double]) -> RootResult {
        precondition(z.count == dimension, "RootSolver.solve: guess has \(z.count) entries, expected \(dimension)")
        residualEvaluations = 0
        jacobianEvaluations = 0
        failedEvaluation = false
        for i in 0..<dimension { gsl_vector_set(guess, i, z[i]) }
        var result = RootResult(failure: nil, iterations: 0, residual: .infinity,
                                residualEvaluations: 0, jacobianEvaluations: 0)
        let setStatus = withExtendedLifetime(self) { () -> Int32 in
            if let s = fdfSolver { return gsl_multiroot_fdfsolver_set(s, fdfFunction, guess) }
            return gsl_multiroot_fsolver_set(fSolver!, fFunction, guess)
        }
        if setStatus != Int32(GSL_SUCCESS) {
            result.failure = describe(setStatus, "setting up the solver")
            finish(&result, &z)
            return result
        }
        result.residual = currentResidual()
        func accepted() -> Bool { result.residual <= tolerance * currentScale() }
        while !accepted() {
            if result.iterations >= maxIterations {
                result.failure = "no root within \(maxIterations) iterations (residual max|F| = \(result.residual), relative tolerance \(tolerance))"
                break
            }
            let status = withExtendedLifetime(self) { () -> Int32 in
                if let s = fdfSolver { return gsl_multiroot_fdfsolver_iterate(s) }
                return gsl_multiroot_fsolver_iterate(fSolver!)
            }
            result.iterations += 1
            result.residual = currentResidual()
            if status != Int32(GSL_SUCCESS) && !accepted() {
                result.failure = describe(status, "iteration \(result.iterations)") + " (residual max|F| = \(result.residual))"
                break
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
        let f = fdfSolver?.pointee.f ?? fSolver!.pointee.f!
        var m = 0.0
        for i in 0..<dimension {
            let v = abs(gsl_vector_get(f, i))
            if !v.isFinite { return .infinity }
            m = max(m, v)
        }
        return m
    }

    /// The system's backward error at the solver's current iterate and residual.
    private func currentBackwardError() -> Double {
        let x = fdfSolver?.pointee.x ?? fSolver!.pointee.x!
        let f = fdfSolver?.pointee.f ?? fSolver!.pointee.f!
        for i in 0..<dimension { zBuffer[i] = gsl_vector_get(x, i); fBuffer[i] = gsl_vector_get(f, i) }
        return system.backwardError(residual: fBuffer, at: zBuffer)
    }

    /// The system's tolerance scale at the solver's current iterate.
    private func currentScale() -> Double {
        let x = fdfSolver?.pointee.x ?? fSolver!.pointee.x!
        for i in 0..<dimension { zBuffer[i] = gsl_vector_get(x, i) }
        return system.toleranceScale(at: zBuffer)
    }

    private func finish(_ result: inout RootResult, _ z: inout [Double]) {
        result.residualEvaluations = residualEvaluations
        result.jacobianEvaluations = jacobianEvaluations
        let root = fdfSolver?.pointee.x ?? fSolver?.pointee.x
        guard let r = root else { return }
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

    fileprivate func callJacobian(_ z: UnsafePointer<gsl_vector>, _ j: UnsafeMutablePointer<gsl_matrix>) -> Int32 {
        jacobianEvaluations += 1
        let n = dimension
        for i in 0..<n { zBuffer[i] = gsl_vector_get(z, i) }
        let ok = system.jacobian(at: zBuffer, into: &jBuffer)
        guard ok, jBuffer.allSatisfy(\.isFinite) else { failedEvaluation = true; return Int32(GSL_EBADFUNC) }
        for i in 0..<n { for k in 0..<n { gsl_matrix_set(j, i, k, jBuffer[i * n + k]) } }
        return Int32(GSL_SUCCESS)
    }
}

private func solverFrom(_ p: UnsafeMutableRawPointer?) -> RootSolver {
    Unmanaged<RootSolver>.fromOpaque(p!).takeUnretainedValue()
}
