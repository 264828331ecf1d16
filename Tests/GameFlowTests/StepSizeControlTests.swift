import Foundation
import Testing
@testable import GameFlow

/// Error control owned by the integrator (`StepSizeControl`) on the embedded pairs (`EmbeddedRK`)
/// and on the optimizer wrappers around them.
@Suite struct StepSizeControlTests {
    static func control(_ rtol: Double, _ atol: Double, minimum: Double = 1e-8) -> StepSizeControl {
        .errorControl(ErrorControl(relativeTolerance: rtol, absoluteTolerance: atol, minimumStepFraction: minimum))
    }

    static let stiff = try! AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-1, 0, 0, -1e3]), b: [0, 0], playerSizes: [1, 1])

    @Test("rkf45/rkck/rk8pd under error control follow the exact affine flow to the tolerance, with steps of at most h; a retried trial reuses v(x)",
          arguments: [SchemeName.rkf45, .rkck, .rk8pd])
    func affineFlow(name: SchemeName) throws {
        let a = -0.3, b = 2.0
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [a, b, -b, a]), b: [0, 0], playerSizes: [1, 1])
        let scheme = try EmbeddedRK(method: FlowMethod(rawValue: name.rawValue)!)
        var integrator = try Integrator(game: game, scheme: scheme, initialState: [1, 2],
                                        options: SolveOptions(stepSize: 0.5, maxSteps: 40, stepSizeControl: Self.control(1e-10, 1e-12)))
        _ = integrator.solve()
        let t = integrator.time
        #expect(t > 0 && t <= 40 * 0.5 * (1 + 1e-12) && t == integrator.checkpoint.control[1])
        let e = exp(a * t), co = cos(b * t), si = sin(b * t)
        let exact = [e * (co * 1 + si * 2), e * (-si * 1 + co * 2)]
        #expect(maxRelativeDifference(integrator.state, exact) < 1e-7, "\(name) at t = \(t)")
        #expect(integrator.stats.acceptedSteps == 40)
        // A step's first trial costs the pair's stages; a retry from the same x reuses v(x).
        let stages = scheme.evaluationsPerStep
        #expect(integrator.stats.fieldEvaluations == stages * integrator.stats.acceptedSteps + (stages - 1) * integrator.stats.rejectedSteps)
    }

    @Test("The controller scales by GSL's own order for each pair (gsl_odeiv2_step_order: 5, 5, 8)")
    func orders() throws {
        let expected: [FlowMethod: Int] = [.rkf45: 5, .rkck: 5, .rk8pd: 8]
        for (method, q) in expected {
            let s = try EmbeddedRK(method: method)
            #expect(s.errorOrder(try s.makeCache(for: Self.stiff)) == q, "\(method)")
        }
        #expect(throws: GameFlowError.self) { _ = try EmbeddedRK(method: .msbdf) }
    }

    @Test("The integrator's controller takes the same steps as GSL's own evolve loop (gsl_odeiv2_evolve_apply), to the bit",
          arguments: [FlowMethod.rkf45, .rkck, .rk8pd])
    func sameAsGSLEvolve(method: FlowMethod) throws {
        // GSL's driver integrates to the same times the controller reached: its evolve loop
        // (trial, hadjust, retry) is the reference for ours.
        var integrator = try Integrator(game: Self.stiff, scheme: try EmbeddedRK(method: method), initialState: [1, 1],
                                        options: SolveOptions(stepSize: 1, maxSteps: 1_000_000, divergenceBound: .infinity,
                                                              stepSizeControl: .errorControl(ErrorControl(relativeTolerance: 1e-7, absoluteTolerance: 1e-9,
                                                                                                          minimumStepFraction: 0, maximumStep: .infinity))))
        let times = [0, 0.01, 0.1, 1, 3]
        var states = [[1.0, 1.0]]
        for t in times.dropFirst() {
            #expect(integrator.advance(to: t) == nil)
            #expect(integrator.time == t)
            states.append(integrator.state)
        }
        let gsl = try integrateFlowWithGSLDriver(Self.stiff, from: [1, 1], times: times,
                                                 options: FlowOptions(method: method, relativeTolerance: 1e-7, absoluteTolerance: 1e-9, initialStep: 1))
        #expect(gsl.status == .completed)
        #expect(gsl.states == states, "\(method): \(gsl.states) vs \(states)")
        #expect(gsl.stats.acceptedSteps == integrator.stats.acceptedSteps && gsl.stats.rejectedSteps == integrator.stats.rejectedSteps)
        #expect(integrator.stats.rejectedSteps > 0)
    }

    @Test("A stiff field makes the controller shrink the step and reject trials; a resumed run continues bit for bit")
    func stiffAndResume() throws {
        let scheme = try EmbeddedRK(method: .rkf45)
        func options(_ steps: Int) -> SolveOptions { SolveOptions(stepSize: 0.1, maxSteps: steps, stepSizeControl: Self.control(1e-6, 1e-9)) }
        var whole = try Integrator(game: Self.stiff, scheme: scheme, initialState: [1, 1], options: options(60))
        _ = whole.solve()
        #expect(whole.stats.rejectedSteps > 0)
        #expect(whole.checkpoint.control[0] < 0.01)         // far below h: the fast mode limits it
        var first = try Integrator(game: Self.stiff, scheme: scheme, initialState: [1, 1], options: options(25))
        _ = first.solve()
        var rest = try Integrator(game: Self.stiff, scheme: scheme, resumingFrom: first.checkpoint, options: options(60))
        _ = rest.solve()
        #expect(rest.state == whole.state && rest.time == whole.time)
        // A checkpoint of error-controlled steps does not resume at fixed steps, and the reverse.
        #expect(throws: GameFlowError.self) {
            _ = try Integrator(game: Self.stiff, scheme: scheme, resumingFrom: first.checkpoint, options: SolveOptions(stepSize: 0.1, maxSteps: 60))
        }
        var fixedCheckpoint = first.checkpoint
        fixedCheckpoint.control = []
        #expect(throws: GameFlowError.self) { _ = try Integrator(game: Self.stiff, scheme: scheme, resumingFrom: fixedCheckpoint, options: options(60)) }
    }

    @Test("The step-size history is recorded (step_size in trajectory.csv) under error control only")
    func history() throws {
        let options = SolveOptions(stepSize: 0.1, maxSteps: 30, recording: .init(every: 1), stepSizeControl: Self.control(1e-6, 1e-9))
        var adaptive = try Integrator(game: Self.stiff, scheme: try EmbeddedRK(method: .rkck), initialState: [1, 1], options: options)
        let solution = adaptive.solve()
        let rec = try #require(adaptive.recording)
        #expect(rec.stepSizes.count == rec.count && rec.stepSizes.dropFirst().allSatisfy { $0 > 0 && $0 <= 0.1 })
        #expect(rec.csvHeader().contains("step_size"))
        #expect(abs(rec.stepSizes.dropFirst().reduce(0, +) - adaptive.time) < 1e-12)
        // The time covered (the phase portrait's flow runs that long) is the sum of the steps, not h × steps.
        #expect(abs(solution.time - rec.stepSizes.dropFirst().reduce(0, +)) < 1e-12 && solution.time < 0.1 * 30)
        var fixedOptions = options
        fixedOptions.stepSizeControl = .fixed
        var fixed = try Integrator(game: Self.stiff, scheme: RK4(), initialState: [1, 1], options: fixedOptions)
        let fixedSolution = fixed.solve()
        #expect(fixedSolution.time == 0.1 * Double(fixedSolution.steps))
        #expect(fixed.recording!.stepSizes.isEmpty && !fixed.recording!.csvHeader().contains("step_size"))
    }

    @Test("A step that would need less than the minimum step fails with the reason")
    func minimumStep() throws {
        let game = try AffineGame(M: Matrix(rows: 1, columns: 1, storage: [-1e6]), b: [0], playerSizes: [1])
        let s = try integrate(game, EmbeddedRK(method: .rk8pd), from: [1], h: 1, steps: 3, control: Self.control(1e-10, 1e-12, minimum: 0.5))
        guard case .failed(let why) = s.status else { Issue.record("expected failed, got \(s.status)"); return }
        #expect(why.contains("minimum") && s.status.reasonCode == .stepSizeUnderflow, "\(why)")
    }

    @Test("At a fixed step an embedded pair is a plain explicit Runge–Kutta method: global error falls as h⁴ (rkf45)")
    func fixedStepOrder() throws {
        let game = try AffineGame(M: Matrix(rows: 2, columns: 2, storage: [-0.3, 2, -2, -0.3]), b: [0, 0], playerSizes: [1, 1])
        func error(_ steps: Int) throws -> Double {
            let s = try integrate(game, EmbeddedRK(method: .rkf45), from: [1, 2], h: 2.0 / Double(steps), steps: steps)
            let e = exp(-0.3 * 2.0), co = cos(4.0), si = sin(4.0)
            return maxRelativeDifference(s.finalState, [e * (co + si * 2), e * (-si + co * 2)])
        }
        let order = log2(try error(20) / error(40))
        #expect(order > 3.8 && order < 5.3, "measured order \(order)")
    }
}

/// The optimizer wrappers sit on the integrator's controller: they see each accepted step's h,
/// pass the estimate through their update, and undo their state when a trial is rejected.
@Suite struct ErrorControlledOptimizerTests {
    static let game = try! AffineGame(M: Matrix(rows: 3, columns: 3, storage: [-1, 2, 0, -2, -1, 0, 0, 0, -400]), b: [0.5, -0.2, 0.1], playerSizes: [2, 1])

    static func wrapped() throws -> [(String, any Scheme)] {
        let base = try EmbeddedRK(method: .rkf45)
        return [("rmsprop", Preconditioned(base, method: .referenceRMSProp)),
                ("adam", Preconditioned(base, method: .standardAdam)),
                ("polyak", try Momentum(base, form: .polyak, weight: 0.5)),
                ("supplement", try Momentum(base, form: .supplement, weight: 1)),
                ("uniform average", try Averaged(Preconditioned(base, method: .referenceRMSProp), kind: .uniform))]
    }

    static func options(_ steps: Int) -> SolveOptions {
        SolveOptions(stepSize: 0.05, maxSteps: steps, recording: .init(every: 1),
                     stepSizeControl: .errorControl(ErrorControl(relativeTolerance: 1e-6, absoluteTolerance: 1e-8)))
    }

    @Test("Rejected trials leave no trace: replaying the accepted step sizes at fixed steps gives the same run to the bit",
          arguments: try wrapped().map(\.0))
    func rejectionsLeaveNoTrace(label: String) throws {
        let scheme = try Self.wrapped().first { $0.0 == label }!.1
        func check<S: Scheme>(_ scheme: S) throws {
            var controlled = try Integrator(game: Self.game, scheme: scheme, initialState: [1, -1, 1], options: Self.options(80))
            _ = controlled.solve()
            #expect(controlled.stats.rejectedSteps > 0, "\(label): no trial was rejected")
            // The same steps, each of the size the controller accepted, with no trial in between.
            let sizes = Array(controlled.recording!.stepSizes.dropFirst())
            var x = [1.0, -1, 1]
            var cache = try scheme.makeCache(for: Self.game)
            for (k, h) in sizes.enumerated() {
                var context = StepContext(game: Self.game, step: k)
                #expect(scheme.step(&x, h: h, cache: &cache, context: &context) == .success)
            }
            #expect(x == controlled.state, "\(label)")
            #expect(scheme.carried(cache) == controlled.checkpoint.carried, "\(label)")
        }
        try check(scheme)
    }

    @Test("An error-controlled run with an optimizer resumes bit for bit (moments and controller in the checkpoint)")
    func resume() throws {
        let scheme = Preconditioned(try EmbeddedRK(method: .rkck), method: .standardAdam)
        var whole = try Integrator(game: Self.game, scheme: scheme, initialState: [1, -1, 1], options: Self.options(70))
        _ = whole.solve()
        var first = try Integrator(game: Self.game, scheme: scheme, initialState: [1, -1, 1], options: Self.options(30))
        _ = first.solve()
        var rest = try Integrator(game: Self.game, scheme: scheme, resumingFrom: first.checkpoint, options: Self.options(70))
        _ = rest.solve()
        #expect(rest.state == whole.state && rest.checkpoint.carried == whole.checkpoint.carried && rest.checkpoint.control == whole.checkpoint.control)
    }

    @Test("Schemes without an error estimate refuse error control in one line naming the ones that have it")
    func refused() throws {
        let control = StepSizeControl.errorControl(ErrorControl(relativeTolerance: 1e-6, absoluteTolerance: 1e-9))
        let options = SolveOptions(stepSize: 0.1, maxSteps: 1, stepSizeControl: control)
        for scheme in [SimGA(), Preconditioned(SimGA(), method: .referenceRMSProp)] as [any Scheme] {
            do {
                _ = try solve(Self.game, scheme: scheme, from: [1, 1, 1], options: options)
                Issue.record("\(scheme.name) accepted error control")
            } catch GameFlowError.invalidInput(let message) {
                #expect(!message.contains("\n") && message.contains("rkf45") && message.contains(scheme.name), "\(message)")
            }
        }
        let lookahead = try Lookahead(try EmbeddedRK(method: .rkf45), k: 5, alpha: 0.5)
        #expect(throws: GameFlowError.self) { _ = try solve(Self.game, scheme: lookahead, from: [1, 1, 1], options: options) }
        #expect(throws: GameFlowError.self) {
            _ = try solve(Self.game, scheme: EmbeddedRK(method: .rkf45), from: [1, 1, 1],
                          options: SolveOptions(stepSize: 0.1, maxSteps: 1, stepSizeControl: .errorControl(ErrorControl(relativeTolerance: 0, absoluteTolerance: 1e-9))))
        }
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
