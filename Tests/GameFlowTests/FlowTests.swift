import Foundation
import Testing
@testable import GameFlow

@Suite struct FlowTests {
    static let methods = FlowMethod.allCases

    @Test("Bilinear flow is a rotation: every odeiv2 method at rtol 1e-10 is within 1e-7 at T = 10", arguments: methods)
    func rotation(method: FlowMethod) throws {
        let sigma = 1.3
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        let x0 = [0.6, -0.8]
        let s = try integrateFlow(game, from: x0, times: [0, 5, 10], options: FlowOptions(method: method, relativeTolerance: 1e-10))
        #expect(s.status == .completed)
        // φ' = σθ, θ' = −σφ: (φ, θ)(t) = rotation by −σt.
        let c = cos(sigma * 10), sn = sin(sigma * 10)
        let exact = [c * x0[0] + sn * x0[1], -sn * x0[0] + c * x0[1]]
        // rk2imp, second order, accumulates its local errors to 1.4e-7 here (measured).
        #expect(maxRelativeDifference(s.finalState, exact) < (method == .rk2imp ? 2e-7 : 1e-7), "\(method)")
        #expect(s.stats.acceptedSteps > 0 && s.stats.fieldEvaluations > 0)
        #expect(s.times == [0, 5, 10])
    }

    @Test("Affine flow: x(t) = x* + e^{tM}(x₀ − x*) for M = [[a, b], [−b, a]], to 1e-7 at T = 10", arguments: methods)
    func affine(method: FlowMethod) throws {
        let a = -0.3, b = 2.0
        let m = Matrix(rows: 2, columns: 2, storage: [a, b, -b, a])
        let c = [0.5, -1.0]
        let game = try AffineGame(M: m, b: c, playerSizes: [1, 1])
        let x0 = [1.0, 2.0]
        let star = try m.solve(c.map { -$0 })
        let t = 10.0
        let d = [x0[0] - star[0], x0[1] - star[1]]
        let e = exp(a * t), co = cos(b * t), si = sin(b * t)
        let exact = [star[0] + e * (co * d[0] + si * d[1]), star[1] + e * (-si * d[0] + co * d[1])]
        let s = try integrateFlow(game, from: x0, times: [0, t], options: FlowOptions(method: method, relativeTolerance: 1e-10))
        #expect(s.status == .completed)
        #expect(maxRelativeDifference(s.finalState, exact) < (method == .rk2imp ? 2e-7 : 1e-7), "\(method)")   // rk2imp: 1.2e-7
    }

    @Test("Time-scaled flow (TTUR) of f = φθ: φ′ = s₁θ, θ′ = −s₂φ, an ellipse at ω = √(s₁s₂), to 1e-7 at T = 10")
    func timeScaled() throws {
        let (s1, s2) = (0.5, 4.5)
        let game = try TimeScaledGame(BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1])), scale: StepScale([s1, s2]))
        let x0 = [0.6, -0.8], t = 10.0, w = (s1 * s2).squareRoot()
        let exact = [x0[0] * cos(w * t) + x0[1] * (s1 / s2).squareRoot() * sin(w * t),
                     x0[1] * cos(w * t) - x0[0] * (s2 / s1).squareRoot() * sin(w * t)]
        for method in [FlowMethod.rk8pd, .msbdf] {
            let s = try integrateFlow(game, from: x0, times: [0, t], options: FlowOptions(method: method, relativeTolerance: 1e-10))
            #expect(maxRelativeDifference(s.finalState, exact) < 1e-7, "\(method)")
        }
    }

    /// With error-per-step control, a method of order p at tolerance ε takes steps h ∝ ε^{1/(p+1)}
    /// and its local errors (a phase lag of one sign on a rotation) add up over T/h steps: the
    /// global error scales as ε^{p/(p+1)}. For rk2imp (p = 2) that is ε^{2/3}, which is why its
    /// error at rtol 1e-10 is 1.4e-7 and not ≤ 1e-7: it needs rtol ≈ 5e-11.
    @Test("Global error against rtol: slope p/(p + 1) (rk2imp 2/3, rk4imp 4/5) on the rotation; rk2imp ≤ 1e-7 at rtol 5e-11")
    func toleranceProportionality() throws {
        let sigma = 1.3
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [sigma]))
        let x0 = [0.6, -0.8]
        let c = cos(sigma * 10), sn = sin(sigma * 10)
        let exact = [c * x0[0] + sn * x0[1], -sn * x0[0] + c * x0[1]]
        for (method, order) in [(FlowMethod.rk2imp, 2.0), (.rk4imp, 4.0)] {
            let tolerances = [1e-6, 1e-7, 1e-8, 1e-9]
            let errors = try tolerances.map { tol in
                maxRelativeDifference(try integrateFlow(game, from: x0, times: [0, 10],
                                                        options: FlowOptions(method: method, relativeTolerance: tol)).finalState, exact)
            }
            let slope = logLogSlope(tolerances, errors)
            #expect(abs(slope - order / (order + 1)) < 0.1, "\(method): slope \(slope), errors \(errors)")
        }
        let tight = try integrateFlow(game, from: x0, times: [0, 10], options: FlowOptions(method: .rk2imp, relativeTolerance: 5e-11))
        #expect(maxRelativeDifference(tight.finalState, exact) < 1e-7)
    }

    @Test("Stiff affine game (eigenvalues −1, −1e4): msbdf and bsimp take far fewer steps than rkf45")
    func stiff() throws {
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-1, 0, 0, -1e4]), b: [0, 0], playerSizes: [1, 1])
        var steps: [FlowMethod: Int] = [:]
        for m in [FlowMethod.rkf45, .msbdf, .bsimp] {
            let s = try integrateFlow(game, from: [1.5, 0.5], times: [0, 10], options: FlowOptions(method: m, relativeTolerance: 1e-6, absoluteTolerance: 1e-10))
            #expect(s.status == .completed)
            #expect(abs(s.finalState[0] - 1.5 * exp(-10)) < 1e-6)
            steps[m] = s.stats.acceptedSteps + s.stats.rejectedSteps
            if m.usesJacobian { #expect(s.stats.jacobianEvaluations > 0) }
        }
        #expect(steps[.msbdf]! * 20 < steps[.rkf45]!, "\(steps)")
        #expect(steps[.bsimp]! * 20 < steps[.rkf45]!, "\(steps)")
    }

    @Test("A field that becomes non-finite ends the flow failed with the reason (underflow, non-finite v or GSL's), keeping the states reached", arguments: methods)
    func blowUp(method: FlowMethod) throws {
        // x' = x²: x(t) = 1/(1 − t) blows up at t = 1.
        let game = ClosureGame(dimension: 1, field: { x, v in v[0] = x[0] * x[0] > 1e200 ? .nan : x[0] * x[0] },
                               jacobian: { x, j in j[0] = 2 * x[0] })
        let s = try integrateFlow(game, from: [1], times: [0, 0.5, 2], options: FlowOptions(method: method, maxSteps: 100_000))
        guard case .failed(let why) = s.status else { Issue.record("expected failed, got \(s.status)"); return }
        #expect([ReasonCode.stepSizeUnderflow, .nonFiniteValue, .integratorFailed].contains(s.status.reasonCode!) && why.contains("before t = 2"), "\(why)")
        #expect(s.times == [0, 0.5])
        #expect(abs(s.finalState[0] - 2) < 1e-6)
    }

    @Test("Bad settings are refused before GSL sees them (a zero atol would abort)")
    func refusals() throws {
        let game = try DiracGAN()
        #expect(throws: GameFlowError.self) { try integrateFlow(game, from: [1, 1], times: [0, 1], options: FlowOptions(method: .rk8pd, absoluteTolerance: 0)) }
        #expect(throws: GameFlowError.self) { try integrateFlow(game, from: [1, 1], times: [1, 0], options: FlowOptions(method: .rk8pd)) }
        let noJacobian = ClosureGame(dimension: 2, field: { x, v in v[0] = x[1]; v[1] = -x[0] })
        #expect(throws: GameFlowError.self) { try integrateFlow(noJacobian, from: [1, 1], times: [0, 1], options: FlowOptions(method: .bsimp)) }
    }
}
