import Foundation
import Testing
@testable import GameFlow

@Suite struct AdaptiveRKTests {
    @Test("rkf45/rkck/rk8pd as schemes follow the exact affine flow to the tolerance, with steps of at most --step",
          arguments: [SchemeName.rkf45, .rkck, .rk8pd])
    func affineFlow(name: SchemeName) throws {
        let a = -0.3, b = 2.0
        let m = Matrix(rows: 2, columns: 2, storage: [a, b, -b, a])
        let game = try AffineGame(M: m, b: [0, 0], playerSizes: [1, 1])
        let scheme = try AdaptiveRK(method: FlowMethod(rawValue: name.rawValue)!, relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
        var integrator = try Integrator(game: game, scheme: scheme, initialState: [1, 2], options: SolveOptions(stepSize: 0.5, maxSteps: 40))
        _ = integrator.solve()
        let t = integrator.checkpoint.carried[1]
        #expect(t > 0 && t <= 40 * 0.5 * (1 + 1e-12))
        let e = exp(a * t), co = cos(b * t), si = sin(b * t)
        let exact = [e * (co * 1 + si * 2), e * (-si * 1 + co * 2)]
        #expect(maxRelativeDifference(integrator.state, exact) < 1e-7, "\(name) at t = \(t)")
        #expect(integrator.stats.acceptedSteps == 40)
        #expect(integrator.stats.fieldEvaluations >= 40 * (name == .rk8pd ? 12 : 6))
    }

    @Test("A stiff field makes the controller shrink the step and reject trials; a resumed run continues bit for bit")
    func stiffAndResume() throws {
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-1, 0, 0, -1e3]), b: [0, 0], playerSizes: [1, 1])
        let scheme = try AdaptiveRK(method: .rkf45, relativeTolerance: 1e-6, absoluteTolerance: 1e-9)
        var whole = try Integrator(game: game, scheme: scheme, initialState: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 60))
        _ = whole.solve()
        #expect(whole.stats.rejectedSteps > 0)
        #expect(whole.checkpoint.carried[0] < 0.01)         // far below --step: the fast mode limits it
        var first = try Integrator(game: game, scheme: scheme, initialState: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 25))
        _ = first.solve()
        var rest = try Integrator(game: game, scheme: scheme, resumingFrom: first.checkpoint, options: SolveOptions(stepSize: 0.1, maxSteps: 60))
        _ = rest.solve()
        #expect(rest.state == whole.state)
    }

    @Test("The step-size history is recorded (step_size in trajectory.csv) for adaptive schemes only")
    func history() throws {
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-1, 0, 0, -1e3]), b: [0, 0], playerSizes: [1, 1])
        let options = SolveOptions(stepSize: 0.1, maxSteps: 30, recording: .init(every: 1))
        var adaptive = try Integrator(game: game, scheme: try AdaptiveRK(method: .rkck, relativeTolerance: 1e-6, absoluteTolerance: 1e-9),
                                      initialState: [1, 1], options: options)
        let solution = adaptive.solve()
        let rec = try #require(adaptive.recording)
        #expect(rec.stepSizes.count == rec.count && rec.stepSizes.dropFirst().allSatisfy { $0 > 0 && $0 <= 0.1 })
        #expect(rec.csvHeader().contains("step_size"))
        #expect(abs(rec.stepSizes.dropFirst().reduce(0, +) - adaptive.checkpoint.carried[1]) < 1e-12)
        // The time covered (the phase portrait's flow runs that long) is the sum of the steps, not h × steps.
        #expect(abs(solution.time - rec.stepSizes.dropFirst().reduce(0, +)) < 1e-12 && solution.time < 0.1 * 30)
        var fixed = try Integrator(game: game, scheme: RK4(), initialState: [1, 1], options: options)
        let fixedSolution = fixed.solve()
        #expect(fixedSolution.time == 0.1 * Double(fixedSolution.steps))
        #expect(fixed.recording!.stepSizes.isEmpty && !fixed.recording!.csvHeader().contains("step_size"))
    }

    @Test("A step that would need less than the minimum step fails with the reason")
    func minimumStep() throws {
        let game = try AffineGame(M: Matrix(rows: 1, columns: 1, storage: [-1e6]), b: [0], playerSizes: [1])
        let scheme = try AdaptiveRK(method: .rk8pd, relativeTolerance: 1e-10, absoluteTolerance: 1e-12, minimumStepFraction: 0.5)
        let s = try integrate(game, scheme, from: [1], h: 1, steps: 3)
        guard case .failed(let why) = s.status else { Issue.record("expected failed, got \(s.status)"); return }
        #expect(why.contains("minimum"), "\(why)")
    }
}

@Suite struct StatsSumTests {
    @Test("+= adds every counter of the JSON contract")
    func everyCounter() {
        var one = Stats()
        for (k, (_, path)) in Stats.jsonKeys.enumerated() { one[keyPath: path] = k + 1 }
        var sum = one
        sum += one
        for (k, (key, path)) in Stats.jsonKeys.enumerated() { #expect(sum[keyPath: path] == 2 * (k + 1), "\(key)") }
    }
}

@Suite struct AdaptiveOptimizerRefusalTests {
    @Test("RMSProp, Adam and momentum refuse an adaptive base (they read every step as h), in one line; fixed-step bases pass")
    func refused() throws {
        let adaptive = try AdaptiveRK(method: .rkf45, relativeTolerance: 1e-6, absoluteTolerance: 1e-9)
        #expect(adaptive.choosesStepSizes)
        for method in [Preconditioner.referenceRMSProp, .standardAdam] {
            #expect(throws: GameFlowError.self) { _ = try preconditioned(adaptive, method) }
            // Built directly, the wrapper refuses when its run starts.
            #expect(throws: GameFlowError.self) {
                _ = try Integrator(game: try DiracGAN(r1: 0.3), scheme: Preconditioned(adaptive, method: method),
                                   initialState: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 1))
            }
        }
        for form in [MomentumForm.polyak, .supplement] {
            #expect(throws: GameFlowError.self) { _ = try Momentum(adaptive, form: form, weight: 0.5) }
            #expect(throws: GameFlowError.self) { _ = try Momentum(Preconditioned(adaptive, method: .referenceRMSProp), form: form, weight: 0.5) }
        }
        do {
            _ = try preconditioned(adaptive, .referenceRMSProp)
        } catch GameFlowError.invalidInput(let message) {
            #expect(!message.contains("\n") && message.contains("rkf45") && message.contains("fixed-step"))
        }
        _ = try preconditioned(SimGA(), .referenceRMSProp)
        _ = try Momentum(AltGA(), form: .polyak, weight: -0.5)
    }
}
