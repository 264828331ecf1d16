import Foundation
import Testing
@testable import GameFlow
import GameFlowTestSupport

@Suite struct IntegratorTests {
    @Test("solve() is the loop of step(): identical states and stats")
    func solveEqualsStepping() throws {
        let game = try DiracGAN(r1: 0.1)
        let opts = SolveOptions(stepSize: 0.15, maxSteps: 37)
        var a = try Integrator(game: game, scheme: RK4(), initialState: [1, -0.5], options: opts)
        var k = 0
        while a.step() == nil { k += 1 }
        var b = try Integrator(game: game, scheme: RK4(), initialState: [1, -0.5], options: opts)
        let s = b.solve()
        var stepped = a.stats
        stepped.monitorEvaluations += 1   // solve() evaluates ‖v‖ once more for its summary
        #expect(a.state == s.finalState && stepped == s.stats && a.status == .completed && s.steps == 37)
    }

    @Test("Divergence beyond the bound keeps the last finite state")
    func divergenceKeepsLastState() throws {
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1]))
        let s = try integrate(game, SimGA(), from: [1, 0], h: 1, steps: 100, bound: 100)
        // ‖x_k‖ = 2^{k/2}; max|x| first exceeds 100 at some k: the state kept is from k − 1.
        guard case .diverged = s.status else { Issue.record("\(s.status)"); return }
        let exact = try integrate(game, SimGA(), from: [1, 0], h: 1, steps: s.steps)
        #expect(s.finalState == exact.finalState)
        #expect(maxAbs(s.finalState) <= 100)
        let next = try oneStep(game, SimGA(), from: s.finalState, h: 1)
        #expect(maxAbs(next) > 100)
    }

    @Test("A non-finite field gives diverged, not a crash")
    func nonFinite() throws {
        let game = ClosureGame(dimension: 1, field: { x, v in v[0] = x[0] > 2 ? .nan : 1 })
        let s = try integrate(game, SimGA(), from: [0], h: 1, steps: 10)
        #expect(s.status.name == "diverged")
        #expect(s.finalState == [3] && s.steps == 3)
    }

    @Test("Tolerance stops with converged; monitoring is counted apart from the scheme's work")
    func convergedAndMonitorCounts() throws {
        let s = try integrate(try DiracGAN(r1: 1), SimGA(), from: [1, 1], h: 0.2, steps: 10_000, tolerance: 1e-8)
        #expect(s.status == .converged && s.steps < 10_000 && s.vectorFieldNorm <= 1e-8)
        #expect(s.stats.fieldEvaluations == s.steps)
        #expect(s.stats.monitorEvaluations == s.steps + 2)   // start, every step, final summary
    }

    @Test("Recording every k steps: step 0, multiples of k, and the last step")
    func recording() throws {
        let opts = SolveOptions(stepSize: 0.2, maxSteps: 23, recording: .init(every: 5, states: true))
        var integ = try Integrator(game: try DiracGAN(), scheme: RK4(), initialState: [1, 1], options: opts)
        let s = integ.solve()
        let rec = try #require(s.recording)
        #expect(rec.steps == [0, 5, 10, 15, 20, 23])
        #expect(rec.state(at: 5) == s.finalState)
        let energy = rec.series(.energy)
        #expect(energy.count == 6 && abs(energy[0] - 1) < 1e-15)   // ½‖(1,1)‖²
        #expect(energy.allSatisfy { abs($0 - 1) < 1e-3 })           // RK4 nearly conserves it
        #expect(rec.csv().split(separator: "\n").count == 7)
    }

    @Test("Invalid options are errors naming the problem")
    func invalidOptions() throws {
        let g = try DiracGAN()
        for (opts, word) in [(SolveOptions(stepSize: 0, maxSteps: 1), "step size"),
                             (SolveOptions(stepSize: .nan, maxSteps: 1), "step size"),
                             (SolveOptions(stepSize: 0.1, maxSteps: 0), "steps"),
                             (SolveOptions(stepSize: 0.1, maxSteps: 1, tolerance: -1), "tolerance")] {
            do {
                _ = try Integrator(game: g, scheme: SimGA(), initialState: [1, 1], options: opts)
                Issue.record("accepted \(word)")
            } catch let e as GameFlowError {
                #expect(e.description.contains(word))
            }
        }
        #expect(throws: GameFlowError.self) {
            _ = try Integrator(game: g, scheme: SimGA(), initialState: [1], options: SolveOptions(stepSize: 0.1, maxSteps: 1))
        }
    }
}

/// The documentation's Swift examples are the package's snippets (Snippets/*.swift), which
/// `swift build` compiles: an example that stops building fails the build and so the tests.
/// These tests check that the README shows them verbatim and that each one runs.
@Suite struct ReadmeExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func snippets() throws -> [String: String] {
        let dir = root.appendingPathComponent("Snippets")
        var out: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".swift") {
            out[String(name.dropLast(6))] = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        }
        return out
    }

    @Test("Every ```swift block of README.md is a snippet, verbatim (so it is built by swift build)")
    func readmeBlocksAreSnippets() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let parts = readme.components(separatedBy: "```swift\n").dropFirst()
        let blocks = parts.map { $0.components(separatedBy: "```").first! }
        #expect(!blocks.isEmpty)
        let snippets = try Self.snippets().values.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        for block in blocks {
            #expect(snippets.contains(block.trimmingCharacters(in: .whitespacesAndNewlines)), "README block is no snippet:\n\(block)")
        }
    }

    @Test("README.md is at most 200 lines and starts with the two set-up commands; the manual is in the DocC catalog")
    func readmeIsShort() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 200, "README.md has \(lines.count) lines")
        let commands = readme.components(separatedBy: "```sh\n").dropFirst().prefix(2).map { $0.components(separatedBy: "\n").first ?? "" }
        #expect(commands.count == 2 && commands[0].hasSuffix("swift run gameflow demo") && commands[1].hasSuffix("swift test && python3 -m pytest -q python"), "\(commands)")
        let docc = Self.root.appendingPathComponent("Sources/GameFlow/GameFlow.docc")
        for article in ["CommandLineReference", "SchemeFormulas", "TrainingOnTheCommandLine", "ImplicitSolvers", "SweepsOnTheCommandLine"] {
            #expect(FileManager.default.fileExists(atPath: docc.appendingPathComponent(article + ".md").path), "\(article)")
            #expect(readme.contains(article + ".md"), "README links \(article)")
        }
    }

    @Test("Every DocC article shows snippets that exist")
    func articlesUseSnippets() throws {
        let docc = Self.root.appendingPathComponent("Sources/GameFlow/GameFlow.docc")
        let names = try Self.snippets().keys
        for file in try FileManager.default.contentsOfDirectory(atPath: docc.path) where file.hasSuffix(".md") && file != "GameFlow.md" {
            let text = try String(contentsOf: docc.appendingPathComponent(file), encoding: .utf8)
            let used = text.components(separatedBy: "@Snippet(path: \"GameFlow/Snippets/").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            #expect(!used.isEmpty, "\(file) shows no example")
            for u in used { #expect(names.contains(u), "\(file): no snippet \(u)") }
        }
    }

    /// The numbers on the snippet's output lines that start with `prefix`.
    static func numbers(_ out: String, _ prefix: String) -> [[Double]] {
        out.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map { line in
            line.dropFirst(prefix.count).split(whereSeparator: { " ,:[]()=<≤".contains($0) }).compactMap { Double($0) }
        }
    }

    @Test("Each snippet runs and prints what theory says (the built executables; the README's blocks are these files)",
          arguments: ["Quickstart", "DefiningAGame", "UtilityGameExample", "ChoosingAScheme", "AnalysingStability", "TrainingAGAN", "ExperimentsAtScale",
                     "Networks"])
    func snippetRuns(name: String) throws {
        let binary = gameflowBinary(near: Marker.self).deletingLastPathComponent().appendingPathComponent(name)
        let r = try runProcess(binary.path, [])
        #expect(r.code == 0, "\(name): \(r.stderr)")
        let out = r.stdout
        switch name {
        case "Quickstart":
            // "converged steps evaluations ‖v‖": consensus takes one evaluation of v per step.
            let f = try #require(Self.numbers(out, "converged").first)
            #expect(f.count == 3 && f[0] == f[1] && f[0] > 10 && f[2] <= 1e-10, "\(out)")
        case "DefiningAGame":
            #expect(try #require(Self.numbers(out, "JVP error").first?.first) < 1e-8, "\(out)")
            let f = try #require(Self.numbers(out, "converged").first, "\(out)")
            #expect(f.count == 2 && f[1] < 1e-10)
        case "UtilityGameExample":
            // v = (y − x³, −(x + y³)) and v′ = [[−3x², 1], [−1, −3y²]] at (1, 2).
            #expect(Self.numbers(out, "v(1, 2)").first?.suffix(2) == [1, -9], "\(out)")
            #expect(Self.numbers(out, "v′(1, 2)").first?.suffix(4) == [-3, 1, -1, -12], "\(out)")
            #expect(out.contains("same field: true"))
        case "ChoosingAScheme":
            // One line per fixed-step scheme; on a bilinear game SimGA spirals out (|1 + ihσ| > 1)
            // and implicit Euler in (|1/(1 − ihσ)| < 1) from the distance √10 of x₀ = 1.
            for scheme in SchemeName.fixedStep { #expect(out.split(separator: "\n").filter { $0.hasPrefix(scheme.rawValue + " ") }.count == 1, "\(scheme)") }
            let lines = out.split(separator: "\n")
            func distance(_ scheme: String) throws -> Double {
                let words = try #require(lines.first { $0.hasPrefix(scheme + " ") }).split(separator: " ")
                return try #require(words.firstIndex(of: "distance").flatMap { Double(words[$0 + 1]) })
            }
            #expect(try distance("simga") > 10.0.squareRoot())
            #expect(try distance("implicit-euler") < 10.0.squareRoot())
            // Gidel et al.: negative momentum makes AltGA contract on a bilinear game.
            let alt = try #require(lines.first { $0.hasPrefix("altga+momentum ") }).split(separator: " ")
            let altDistance = try #require(Double(alt[2]))
            #expect(alt[1] == "completed" && altDistance < 10.0.squareRoot())
        case "AnalysingStability":
            // Dirac-GAN with R1 0.3 at 0: λ = −0.15 ± 0.477i, Lemma 4: 2|Re λ|/|λ|² = 0.3/0.25 = 1.2.
            let h = try #require(Self.numbers(out, "SimGA is stable for h").first?.first)
            #expect(abs(h - 1.2) < 1e-12, "\(out)")
            #expect(out.contains("Lemma 9"))
        case "TrainingAGAN":
            // Metrics at steps 0, 50, 100 before the stop and 150, 200 after it; then the final status.
            #expect(Self.numbers(out, "step").map { $0[0] } == [0, 50, 100, 150, 200], "\(out)")
            #expect(out.hasSuffix("completed 200\n"), "\(out)")
        case "ExperimentsAtScale":
            // The sweep's cells against consensus's closed form on φθ (stable iff h < 2γ/(γ² + 1)),
            // and the training run resumed from its checkpoint file, bit for bit.
            #expect(out.contains("resumed from step 100: bit for bit"))
            // metrics.csv after the resume is the uninterrupted run's schedule: one row per 50 steps.
            let rows = out.split(separator: "\n").filter { $0.first?.isNumber == true && $0.contains(",") }
            #expect(rows.map { $0.split(separator: ",")[0] } == ["0", "50", "100", "150", "200"])
            let cells = Self.numbers(out, "γ ")
            #expect(cells.count == 6, "\(out)")    // 2 γ × 3 h
            for f in cells {
                let (gamma, h, distance) = (f[0], f[1], f[2])
                #expect((distance < 2.squareRoot()) == (h < 2 * gamma / (gamma * gamma + 1)), "\(f)")
            }
        case "Networks":
            // dcgan28's parameter count (the issue's 273,666), and the exact products against a
            // central difference (O(ε²) ≈ 1e-10 here) and the adjoint identity (round-off).
            #expect(Self.numbers(out, "parameters").first?.suffix(1) == [273_666], "\(out)")
            #expect(try #require(Self.numbers(out, "JVP error").first?.first) < 1e-7, "\(out)")
            #expect(try #require(Self.numbers(out, "adjoint error").first?.first) < 1e-14, "\(out)")
            #expect(out.contains("completed 50 steps"), "\(out)")
        default:
            Issue.record("no check for snippet \(name)")
        }
    }
}

/// A class to find the test bundle (and so the build folder) by.
final class Marker {}

/// Checkpoints: a run saved after k steps and continued is the same run, bit for bit.
@Suite struct CheckpointTests {
    static func gan() throws -> NetworkGAN {
        try mlpGAN([3, 6, 2], [2, 6, 1], activation: .relu, data: .ring8, batchSize: 16, seed: 11)
    }

    func straightAndResumed<S: Scheme>(_ scheme: S) throws -> (straight: Integrator<NetworkGAN, S>, resumed: Integrator<NetworkGAN, S>) {
        let game = try Self.gan(), x0 = game.initialState(seed: 11)
        var straight = try Integrator(game: game, scheme: scheme, initialState: x0, options: SolveOptions(stepSize: 1e-2, maxSteps: 20))
        _ = straight.solve()
        var first = try Integrator(game: game, scheme: scheme, initialState: x0, options: SolveOptions(stepSize: 1e-2, maxSteps: 8))
        _ = first.solve()
        var resumed = try Integrator(game: game, scheme: scheme, resumingFrom: first.checkpoint,
                                     options: SolveOptions(stepSize: 1e-2, maxSteps: 20))
        _ = resumed.solve()
        return (straight, resumed)
    }

    @Test("8 steps, checkpoint, 12 more = 20 straight steps (state, carried state, counters), for schemes that carry state")
    func resumeIsBitIdentical() throws {
        func check<S: Scheme>(_ scheme: S) throws {
            let (a, b) = try straightAndResumed(scheme)
            #expect(a.stepsCompleted == 20 && b.stepsCompleted == 20, "\(scheme.name)")
            #expect(a.state == b.state, "\(scheme.name)")
            #expect(a.checkpoint.carried == b.checkpoint.carried, "\(scheme.name)")
            // The scheme's work is the same; each solve() also evaluates ‖v‖ once at its end
            // (monitorEvaluations), and the resumed run had two.
            var sa = a.stats, sb = b.stats
            sa.monitorEvaluations = 0
            sb.monitorEvaluations = 0
            #expect(sa == sb, "\(scheme.name)")
        }
        try check(Optimistic())
        try check(Preconditioned(Optimistic(), method: .referenceRMSProp))
        try check(Preconditioned(try Consensus(gamma: 10), method: .standardAdam))
        try check(Preconditioned(SimGA(), method: .referenceRMSProp))
        try check(RK4())
        try check(HGD())
        try check(try LookAheadGradient(alpha: 0.5))
        try check(try LOLA.scheme(alpha: 0.5))
        try check(Preconditioned(try LOLA.sos(alpha: 0.5, a: 0.5, b: 0.5), method: .referenceRMSProp))
        try check(Preconditioned(try LinearlyImplicit(.cgd), method: .referenceRMSProp))
        try check(try LinearlyImplicit(.rosenbrockEuler))
        // Lookahead: 8 = 2·3 + 2 steps, so the checkpoint falls inside a cycle.
        try check(try Lookahead(Preconditioned(SimGA(), method: .referenceRMSProp), k: 3, alpha: 0.5))
        try check(try GDAAM(depth: 4))   // its history (4 differences) is full by step 8
        try check(try Averaged(Preconditioned(SimGA(), method: .referenceRMSProp), kind: .uniform))
        try check(try Averaged(try Consensus(gamma: 1), kind: .ema(0.9)))
    }

    @Test("Dropping the carried state changes the continuation (so the test above can fail)")
    func carriedStateMatters() throws {
        let game = try Self.gan(), x0 = game.initialState(seed: 11)
        let scheme = Preconditioned(Optimistic(), method: .referenceRMSProp)
        var first = try Integrator(game: game, scheme: scheme, initialState: x0, options: SolveOptions(stepSize: 1e-2, maxSteps: 8))
        _ = first.solve()
        var straight = try Integrator(game: game, scheme: scheme, resumingFrom: first.checkpoint, options: SolveOptions(stepSize: 1e-2, maxSteps: 9))
        _ = straight.solve()
        var fresh = first.checkpoint
        fresh.carried = Preconditioned(Optimistic(), method: .referenceRMSProp).carried(try scheme.makeCache(for: game))
        var forgetful = try Integrator(game: game, scheme: scheme, resumingFrom: fresh, options: SolveOptions(stepSize: 1e-2, maxSteps: 9))
        _ = forgetful.solve()
        #expect(straight.state != forgetful.state)
    }

    @Test("Stats survive their JSON object (as checkpoint.json stores them)")
    func statsRoundTrip() throws {
        var stats = Stats()
        for (i, (_, path)) in Stats.jsonKeys.enumerated() { stats[keyPath: path] = 10 * i + 3 }
        let parsed = try JSONSerialization.jsonObject(with: Data(stats.json.serialized().utf8)) as? [String: Any]
        #expect(Stats(jsonObject: try #require(parsed)) == stats)
    }

    @Test("A checkpoint that does not fit the scheme is refused with a clear error")
    func mismatchedCheckpoint() throws {
        let game = try Self.gan(), x0 = game.initialState(seed: 11)
        var optimistic = try Integrator(game: game, scheme: Optimistic(), initialState: x0, options: SolveOptions(stepSize: 1e-2, maxSteps: 3))
        _ = optimistic.solve()
        #expect(throws: GameFlowError.self) {
            try Integrator(game: game, scheme: SimGA(), resumingFrom: optimistic.checkpoint, options: SolveOptions(stepSize: 1e-2, maxSteps: 5))
        }
        #expect(throws: GameFlowError.self) {
            try Integrator(game: game, scheme: Preconditioned(SimGA(), method: .referenceRMSProp), resumingFrom: optimistic.checkpoint,
                           options: SolveOptions(stepSize: 1e-2, maxSteps: 5))
        }
        // A run already past maxSteps is complete without stepping.
        let done = try Integrator(game: game, scheme: Optimistic(), resumingFrom: optimistic.checkpoint,
                                  options: SolveOptions(stepSize: 1e-2, maxSteps: 2))
        #expect(done.status == .completed && done.state == optimistic.state)
    }
}

/// The library's training loop: observers in order, schedules, stops, and resume bit for bit.
@Suite struct TrainingLoopTests {
    final class Log: RunObserver {
        var events: [(String, Int, Bool)] = []
        let tag: String
        init(_ tag: String) { self.tag = tag }
        func observe(_ event: RunEvent, checkpoint: () -> Checkpoint) throws { events.append((tag, event.step, event.isLast)) }
    }

    @Test("Observers see the start, every step and the end, in order; EveryNSteps keeps its schedule (and the end, once)")
    func schedule() throws {
        let game = try DiracGAN(r1: 0.3)
        let a = Log("a"), b = Log("b")
        var every: [Int] = []
        let tenth = EveryNSteps(10, at: [13]) { e, _ in every.append(e.step) }
        var loop = TrainingLoop(try Integrator(game: game, scheme: SimGA(), initialState: [1, 1], options: SolveOptions(stepSize: 0.1, maxSteps: 25)))
        let stopped = try loop.run(observers: [a, tenth, b])
        #expect(!stopped && loop.integrator.stepsCompleted == 25)
        #expect(a.events.map(\.1) == Array(0...25) && b.events.map(\.1) == Array(0...25))
        #expect(a.events.last!.2 && !a.events.dropLast().contains { $0.2 })
        #expect(every == [0, 10, 13, 20, 25])
        #expect(loop.trainingSeconds > 0)
    }

    @Test("A stop after step k ends the loop there (isLast on that step); a checkpoint taken by an observer resumes bit for bit")
    func stopAndResume() throws {
        let game = try mlpGAN([3, 6, 2], [2, 6, 1], activation: .tanh, data: .ring8, batchSize: 16, seed: 4)
        let scheme = Preconditioned(Optimistic(), method: .standardAdam)
        let options = SolveOptions(stepSize: 1e-2, maxSteps: 40)
        var straight = try Integrator(game: game, scheme: scheme, initialState: game.initialState(seed: 4), options: options)
        _ = straight.solve()
        var saved: Checkpoint?
        let keep = EveryNSeconds(1e9) { e, checkpoint in if e.isLast { saved = checkpoint() } }
        var first = TrainingLoop(try Integrator(game: game, scheme: scheme, initialState: game.initialState(seed: 4), options: options))
        let stopped = try first.run(observers: [keep], shouldStop: { $0 >= 17 })
        #expect(stopped && first.integrator.stepsCompleted == 17 && saved?.stepsCompleted == 17)
        var second = TrainingLoop(try Integrator(game: game, scheme: scheme, resumingFrom: saved!, options: options))
        try second.run(observers: [])
        #expect(second.integrator.state == straight.state)
        #expect(second.integrator.stats.fieldEvaluations == straight.stats.fieldEvaluations)
    }
}
