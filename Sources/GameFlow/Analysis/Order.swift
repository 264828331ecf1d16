import Foundation

/// w = v − γ·v′ᵀv, the field consensus optimisation integrates with explicit Euler (so its
/// iterates converge, as h → 0, to the flow of w, not of v). Derivatives: finite differences.
public struct ConsensusField<G: Game>: FieldModifier {
    /// The game whose field is modified.
    /// Its derivatives are the finite-difference defaults (v″ terms are not formed).
    public var hasExactDerivatives: Bool { false }
    public let base: G
    /// γ of w = v − γ·v′ᵀv.
    public let gamma: Double

    /// Consensus's field w = v − γ·v′ᵀv of `base`.
    public init(_ base: G, gamma: Double) {
        self.base = base
        self.gamma = gamma
    }

    public var name: String { "\(base.name)-consensus-field" }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        base.evaluate(at: x, step: step, into: &v)
        var vjp = [Double](repeating: 0, count: dimension)
        base.transposeJacobianVectorProduct(at: x, v, step: step, into: &vjp)
        for i in 0..<dimension { v[i] -= gamma * vjp[i] }
    }
}

/// A scheme's measured order of accuracy: the global error at time T of N steps of size T/N
/// against the flow (GSL rk8pd at rtol 1e-13), for each N, and the least-squares slope of
/// log error against log h.
public struct MeasuredOrder: Sendable {
    /// h = T/N for each step count N.
    public let stepSizes: [Double]
    /// The global error at T for each step size.
    public let errors: [Double]
    /// d log(error) / d log(h), fitted over every step size.
    public let slope: Double

    /// Runs `scheme` for time T at h = T/N for each N and fits the slope of the global error against `field`'s exact flow (GSL rk8pd, rtol 1e-13).
    /// - Parameters:
    ///   - scheme: the scheme whose order is measured.
    ///   - game: the game it steps on.
    ///   - field: the flow the iterates are compared with (the game itself, or e.g. `ConsensusField`).
    ///   - x0: the common start.
    ///   - time: T, the time every run covers.
    ///   - steps: the step counts N (h = T/N), each at least 1.
    public init<G: Game, F: Game, S: Scheme>(_ scheme: S, on game: G, against field: F, from x0: [Double], time: Double,
                                            steps: [Int]) throws {
        guard steps.count >= 2, steps.allSatisfy({ $0 >= 1 }) else {
            throw GameFlowError.invalidInput("an order needs at least two step counts ≥ 1")
        }
        let reference = try integrateFlow(field, from: x0, times: [0, time],
                                          options: FlowOptions(method: .rk8pd, relativeTolerance: 1e-13, absoluteTolerance: 1e-15))
        guard reference.status == .completed else {
            throw GameFlowError.invalidInput("the reference flow did not reach T = \(time): \(reference.status)")
        }
        var hs: [Double] = [], errs: [Double] = []
        for n in steps {
            let h = time / Double(n)
            let s = try solve(game, scheme: scheme, from: x0, options: SolveOptions(stepSize: h, maxSteps: n))
            guard s.status == .completed else {
                throw GameFlowError.invalidInput("\(scheme.name) with h = \(h) did not complete: \(s.status)")
            }
            hs.append(h)
            errs.append(distance(s.finalState, reference.finalState))
        }
        stepSizes = hs
        errors = errs
        slope = logLogSlope(hs, errs)
    }
}

/// The least-squares slope of log y against log x (an order of accuracy from errors y at step sizes x).
public func logLogSlope(_ x: [Double], _ y: [Double]) -> Double {
    let lx = x.map { Foundation.log($0) }, ly = y.map { Foundation.log(max($0, Double.leastNonzeroMagnitude)) }
    let mx = lx.reduce(0, +) / Double(lx.count), my = ly.reduce(0, +) / Double(ly.count)
    var sxy = 0.0, sxx = 0.0
    for (a, b) in zip(lx, ly) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx) }
    return sxy / sxx
}
