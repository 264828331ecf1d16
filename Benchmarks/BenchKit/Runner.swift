import Foundation
import GameFlow
import Numerics

/// One (game, seed, scheme, h) run.
public struct Cell: Sendable {
    public var game: String
    public var seed: UInt64
    public var scheme: String
    public var h: Double
    /// converged (error ≤ tolerance·error₀), diverged (error above 1e100·error₀, or above
    /// 1e6·error₀ when the budget ends), failed, or stalled (neither, within the step budget).
    public var status: String
    public var steps: Int
    public var stepsToTolerance: Int?
    public var costToTolerance: Int?
    /// Root-solver iterations spent until the tolerance was reached (the whole run if it never was).
    public var rootIterations: Int
    public var cost: Int
    public var seconds: Double
    public var finalError: Double
    public var initialError: Double
    /// exp(slope) of a least-squares fit of log error over the tail of the run.
    public var measuredRate: Double?
    /// Spectral radius of the scheme's one-step map at the equilibrium (analysis module).
    public var predictedRate: Double?
    /// (cost, error) samples for the equal-cost view.
    public var trace: [(Int, Double)]
}

/// A frontier measured from runs: a bound, or undecided when no step was decidedly stable or
/// unstable within the run budget (contraction or growth too slow to call).
public enum MeasuredFrontier: Sendable, Equatable {
    case bound(StableStepBound)
    /// Runs were decidedly stable at `stable` and decidedly unstable at `unstable`; in between they
    /// could not decide (a contraction or growth too slow to call within the run budget).
    case bracket(stable: Double, unstable: Double)
    /// Stable up to this h; the budget ran out before an unstable step was found.
    case atLeast(Double)
    case undecided
}

/// Largest stable h: measured from runs vs predicted by the analysis module.
public struct Frontier: Sendable {
    public var game: String
    public var seed: UInt64
    public var scheme: String
    public var measured: MeasuredFrontier
    public var predicted: StableStepBound
    /// The predicted stable and neutral sets (`StableSet`'s description), beside the first interval.
    public var predictedSet: String?
}

/// Time per step of a scheme on one workload.
public struct SpeedRow: Sendable {
    public var workload: String
    public var scheme: String
    public var microsecondsPerStep: Double?
    public var note: String?
}

public struct Throughput: Sendable {
    public var n: Int
    public var fieldGBps: Double
    public var dgemvGBps: Double
}

public struct SuiteResults: Sendable {
    public var cells: [Cell] = []
    public var frontiers: [Frontier] = []
    public var speed: [SpeedRow] = []
    public var throughput: Throughput?
    public var options: SuiteOptions
    public var environment: [(String, String)] = []
}

/// Runs the suite. `progress` receives one short line per unit of work.
public struct SuiteRunner: Sendable {
    public let options: SuiteOptions
    public init(options: SuiteOptions) { self.options = options }

    /// The fixed-step schemes the filters keep. SGA, HGD and LA only when asked for by name
    /// (`--filter sga`): without a stability function their frontier scans on bilinear-200 build
    /// 400 × 400 step matrices on every bisection probe, minutes of the suite's budget;
    /// `gameflow-bench gan-step --schemes sga,hgd,la` times them.
    public var schemes: [SchemeName] {
        SchemeName.fixedStep.filter { name in
            options.keeps(scheme: name.rawValue) && (![.sga, .hgd, .la, .lola, .sos, .gdaAM].contains(name) || options.schemeFilter.contains(name.rawValue))
        }
    }

    /// A scheme with the suite's knobs: consensus's γ, and the same weight as SGA's λ (on a
    /// bilinear game the two then make the same update).
    func makeScheme(_ name: SchemeName) throws -> any Scheme {
        var knobs = SchemeName.Knobs(gamma: options.consensusGamma, rootTolerance: 1e-14, rootMaxIterations: 50)
        knobs.lambda = options.consensusGamma
        knobs.alpha = options.consensusGamma   // LA's α: on a bilinear game LA is consensus with γ = α
        knobs.andersonDepth = 10
        return try name.make(knobs)
    }

    /// The suite as a sweep spec: one grid per game, over its seeds and the schemes it runs, each
    /// with the options that change results (so a folder of another suite is refused). A cell is
    /// one (game, seed, scheme): its runs over the game's step grid and, for the first seed, its
    /// stability frontier.
    public func spec() throws -> SweepSpec {
        var grids: [[(String, JSON)]] = []
        var seedsOf: [(String, [UInt64], BenchGame)] = []
        for g in try SuiteGames.all(options) {
            if let k = seedsOf.firstIndex(where: { $0.0 == g.name }) { seedsOf[k].1.append(g.seed) } else { seedsOf.append((g.name, [g.seed], g)) }
        }
        for (name, seeds, g) in seedsOf {
            let kept = schemes.filter { g.skip[$0] == nil }
            guard !kept.isEmpty else { continue }
            grids.append([("game", .string(name)), ("seed", .array(seeds.map { .int(Int($0)) })),
                          ("scheme", .array(kept.map { .string($0.rawValue) })), ("quick", .bool(options.quick)),
                          ("tolerance", .number(options.tolerance)), ("cost-budget", .int(options.costBudget)),
                          ("gamma", .number(options.consensusGamma)), ("frontier-seed", .int(Int(options.seeds[0]))),
                          ("frontier-work", .int(options.frontierWork))])
        }
        return try SweepSpec(grids: grids)
    }

    /// Runs the suite's cells on the library's sweep engine (`jobs` at once; with `output`, each
    /// cell's file goes into `output/cells/` and a re-run skips the finished ones), then the
    /// speed view alone on the machine. The results are the same for every `jobs`: budgets are
    /// counted in work, never in wall time.
    public func run(jobs: Int = 1, output: String? = nil, progressLine: Bool = false,
                    progress: (String) -> Void = { _ in }) throws -> SuiteResults {
        var results = SuiteResults(options: options)
        results.environment = environment()
        var engine = SweepEngine(spec: try spec(), output: output, jobs: jobs)
        engine.resultsTable = nil      // the report writes its own tables
        engine.progress = progressLine
        let total = engine.spec.cells.count
        progress("\(total) cells (game, seed, scheme) on \(jobs) thread\(jobs == 1 ? "" : "s")")
        let runner = self
        let records = try engine.run { cell in try runner.unit(cell) }
        for r in records {
            guard let result = r["result"] else { continue }
            if case .string("error")? = result["status"] {
                throw GameFlowError.invalidInput("suite cell \(SweepFolder.index(r)) failed: \(result["reason"].map(SweepSpec.text) ?? "?")")
            }
            if case .array(let cs)? = result["cells"] { results.cells += cs.compactMap(Cell.init(json:)) }
            if let f = result["frontier"].flatMap(Frontier.init(json:)) { results.frontiers.append(f) }
        }
        // The tables in suite order: games as listed (by seed), then schemes, then steps.
        let gameOrder = try SuiteGames.all(options).map { "\($0.name)#\($0.seed)" }
        let schemeOrder = schemes.map(\.rawValue)
        func key(_ game: String, _ seed: UInt64, _ scheme: String) -> (Int, Int) {
            (gameOrder.firstIndex(of: "\(game)#\(seed)") ?? .max, schemeOrder.firstIndex(of: scheme) ?? .max)
        }
        results.cells = results.cells.enumerated().sorted { a, b in
            let (ka, kb) = (key(a.element.game, a.element.seed, a.element.scheme), key(b.element.game, b.element.seed, b.element.scheme))
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
        results.frontiers.sort { key($0.game, $0.seed, $0.scheme) < key($1.game, $1.seed, $1.scheme) }
        if options.includeSpeed {
            progress("speed view")
            (results.speed, results.throughput) = try speedView()
        }
        return results
    }

    /// One cell of the suite's spec: the game's runs over its step grid with this scheme, and its
    /// frontier for the first seed when the equilibrium is known.
    func unit(_ cell: SweepCell) throws -> SweepOutcome {
        let start = ContinuousClock.now
        guard let name = cell.text("game"), let seed = cell.number("seed").map({ UInt64($0) }),
              let schemeName = cell.text("scheme").flatMap(SchemeName.init(rawValue:)) else {
            throw GameFlowError.invalidInput("suite cell \(cell.index) lacks game, seed or scheme")
        }
        let g = try SuiteGames.game(named: name, seed: seed, options: options)
        let scheme = try makeScheme(schemeName)
        var cells: [JSON] = []
        for h in g.stepGrid { cells.append(try runCell(g.game, g, scheme, name: schemeName, h: h).json(trace: true)) }
        var frontier = JSON.null
        if g.game.equilibrium != nil, g.seed == options.seeds[0] { frontier = try self.frontier(g.game, g, scheme, name: schemeName).json }
        return SweepOutcome(result: .object([("status", .string("done")), ("cells", .array(cells)), ("frontier", frontier)]),
                            seconds: seconds(ContinuousClock.now - start))
    }

    // MARK: - Cells

    /// Growth of the error over its start beyond which an unfinished cell counts as diverged.
    public static let divergedGrowth = 1e6

    func runCell<G: Game, S: Scheme>(_ game: G, _ g: BenchGame, _ scheme: S, name: SchemeName, h: Double) throws -> Cell {
        let start = ContinuousClock.now
        var integrator = try Integrator(game: game, scheme: scheme, initialState: g.start,
                                        options: SolveOptions(stepSize: h, maxSteps: g.stepCap(name), divergenceBound: 1e150))
        let e0 = g.error(g.start)
        // Run until round-off: distance to x̄ can shrink to ε·|x̄| (to 1e-250·e₀ when x̄ = 0).
        let floor = max(1e-9 * maxAbs(g.game.equilibrium ?? [1e-2]), 1e-250 * e0), ceiling = 1e100 * max(e0, 1)
        let every = g.game is NetworkGAN ? 10 : 1
        var logs: [(Int, Double)] = [(0, log(e0))]
        var trace: [(Int, Double)] = [(0, e0)]
        var stepsToTol: Int?, costToTol: Int?, rootToTol: Int?
        var status = "stalled"
        var error = e0
        while true {
            let s = integrator.step()
            let k = integrator.stepsCompleted
            if let s, !s.isSuccessful { status = s.name; break }
            if k % every == 0 || s != nil {
                error = g.error(integrator.state)
                trace.append((integrator.stats.cost, error))
                if error > floor && error < ceiling && error.isFinite { logs.append((k, log(error))) }
                if stepsToTol == nil && error <= options.tolerance * e0 {
                    stepsToTol = k
                    costToTol = integrator.stats.cost
                    rootToTol = integrator.stats.rootIterations
                }
                if error <= floor { break }
                if !(error < ceiling) { status = "diverged"; break }
            }
            if s != nil { break }
        }
        if stepsToTol != nil { status = "converged" }
        // A run that ends the budget a million times farther out than it started is diverging
        // (before, one that grew to 1e84 without reaching the 1e100 ceiling read "stalled").
        if status == "stalled" && !(error <= Self.divergedGrowth * max(e0, 1e-300)) { status = "diverged" }
        var predicted: Double?
        if let eq = g.game.equilibrium {
            predicted = try? Stability.stepRadius(scheme, jacobian: g.game.jacobianMatrix(at: eq), players: g.game.players, h: h)
        }
        return Cell(game: g.name, seed: g.seed, scheme: name.rawValue, h: h, status: status, steps: integrator.stepsCompleted,
                    stepsToTolerance: stepsToTol, costToTolerance: costToTol, rootIterations: rootToTol ?? integrator.stats.rootIterations,
                    cost: integrator.stats.cost, seconds: seconds(ContinuousClock.now - start), finalError: g.error(integrator.state),
                    initialError: e0, measuredRate: resolvedRate(logs), predictedRate: predicted, trace: Self.thinned(trace, budget: options.costBudget))
    }

    /// The (cost, error) trace kept for the equal-cost view and its figures: the running minimum
    /// of the error at costs 10^(k/20) and at the view's budget (exactly the best error within
    /// each), instead of one point per step.
    static func thinned(_ trace: [(Int, Double)], budget: Int) -> [(Int, Double)] {
        guard let last = trace.last?.0 else { return [] }
        var marks = Set<Int>([budget, last, 0])
        var t = 1.0
        while t <= Double(last) { marks.insert(Int(t)); t *= pow(10, 1.0 / 20) }
        let sortedMarks = marks.sorted()
        var out: [(Int, Double)] = []
        var best = Double.infinity, k = 0
        for (i, p) in trace.enumerated() {
            if p.1 < best { best = p.1 }
            let nextCost = i + 1 < trace.count ? trace[i + 1].0 : Int.max
            // The last point at or below each mark carries the minimum so far.
            while k < sortedMarks.count && sortedMarks[k] < p.0 { k += 1 }
            if k < sortedMarks.count && p.0 <= sortedMarks[k] && nextCost > sortedMarks[k] {
                if out.last?.0 != p.0 { out.append((p.0, best)) }
            }
        }
        return out
    }

    /// exp of the least-squares slope of log error against step, over the last half of the
    /// samples (where the slowest mode dominates) or over all of them.
    func tailRate(_ logs: [(Int, Double)], wholeWindow: Bool = false) -> Double? {
        guard logs.count >= 8 else { return nil }
        let tail = wholeWindow ? logs[...] : logs[(logs.count / 2)...]
        let n = Double(tail.count)
        let mx = tail.map { Double($0.0) }.reduce(0, +) / n, my = tail.map(\.1).reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for (k, y) in tail { let dx = Double(k) - mx; sxy += dx * (y - my); sxx += dx * dx }
        guard sxx > 0 else { return nil }
        return exp(sxy / sxx)
    }

    /// The tail rate when the run resolved one: the tail spans at least 25 nats of log error and
    /// the rates fitted on its two halves (the run's third and fourth quarters) agree to 1e-9 —
    /// so one mode dominates. nil otherwise (e.g. modes of nearly equal rates still mixing).
    func resolvedRate(_ logs: [(Int, Double)]) -> Double? {
        guard logs.count >= 16 else { return nil }
        let tail = logs[(logs.count / 2)...]
        guard let lo = tail.map(\.1).min(), let hi = tail.map(\.1).max(), hi - lo >= 25 else { return nil }
        let q = logs.count / 4
        guard let ra = tailRate(Array(logs[(2 * q)..<(3 * q)]), wholeWindow: true),
              let rb = tailRate(Array(logs[(3 * q)...]), wholeWindow: true),
              abs(ra - rb) <= 1e-9 * rb else { return nil }
        return tailRate(logs)
    }

    // MARK: - Stability frontier

    /// Measured: scan h upward by doubling, then bisect, on the tail rate of a run started close to
    /// the equilibrium (so nonlinear games are in their linear regime). Predicted: the analysis
    /// module's largest stable step (Lemma 4 for simga).
    func frontier<G: Game, S: Scheme>(_ game: G, _ g: BenchGame, _ scheme: S, name: SchemeName) throws -> Frontier {
        let eq = g.game.equilibrium!
        let j = g.game.jacobianMatrix(at: eq)
        let predictedSet = try Stability.stableSteps(scheme, jacobian: j, players: g.game.players)
        let predicted: StableStepBound
        if name == .simga {
            predicted = try Spectrum(matrix: j).maxStableEulerStep.map { .upTo($0) } ?? .none
        } else {
            predicted = predictedSet.maxStableStep
        }
        // Start close to x̄ so a nonlinear game stays in its linear regime.
        let near = zip(eq, g.start).map { $0 + (g.isLinear ? 1 : 1e-6) * ($1 - $0) }
        let firstChunk = options.quick ? 1000 : 2000
        let cap = max(firstChunk, min(options.quick ? 20_000 : 100_000, 10_000_000 / max(g.game.dimension, 1)))
        // A budget for the whole search: once spent, further verdicts are undecided.
        var budget = max(options.frontierWork / max(g.game.dimension / 10, 1), 20 * firstChunk)
        // Work of a verdict's run: its steps, or for an implicit scheme its root iterations
        // plus n per dense Jacobian formed, if more. Counted, not timed: the verdicts do not
        // depend on the machine or on what runs beside them.
        let n = g.game.dimension
        func work(_ s: Stats, steps: Int) -> Int { max(steps, s.rootIterations + n * s.jacobianEvaluations, 1) }
        /// −1 stable, +1 unstable, 0 undecided, 2 out of budget. Decided when the error leaves [1e-4, 1e4]·e₀, or
        /// when the tail rates of the last two quarters of the run agree (their logarithms to 0.1 %)
        /// and differ from 1 (|log rate| ≥ 1e-6); otherwise the run is extended (doubling) up to `cap` steps. Two windows
        /// guard against a mixture of modes that has not settled, and against neutral orbits.
        func verdict(_ h: Double) throws -> Int {
            if budget <= 0 { return 2 }
            var integrator = try Integrator(game: game, scheme: scheme, initialState: near,
                                            options: SolveOptions(stepSize: h, maxSteps: cap, divergenceBound: 1e150))
            defer { budget -= work(integrator.stats, steps: integrator.stepsCompleted) }
            var logs: [(Int, Double)] = []
            let e0 = distance(near, eq)
            var target = firstChunk
            while true {
                let status = integrator.step()
                if let s = status, !s.isSuccessful { return 1 }
                if integrator.stepsCompleted % 256 == 0 && work(integrator.stats, steps: integrator.stepsCompleted) >= budget { return 2 }
                let e = distance(integrator.state, eq)
                if e >= 1e4 * e0 { return 1 }
                if e <= 1e-4 * e0 { return -1 }
                logs.append((integrator.stepsCompleted, log(e)))
                if integrator.stepsCompleted >= target || status != nil {
                    let q = logs.count / 4
                    if let ra = tailRate(Array(logs[(2 * q)..<(3 * q)]), wholeWindow: true),
                       let rb = tailRate(Array(logs[(3 * q)...]), wholeWindow: true),
                       abs(log(ra) - log(rb)) <= 1e-3 * abs(log(rb)), abs(log(rb)) >= 1e-6 {
                        return rb < 1 ? -1 : 1
                    }
                    if status != nil || target >= cap { return 0 }
                    target = min(2 * target, cap)
                }
            }
        }
        let scale = max(try Spectrum(matrix: j).spectralRadius, 1e-300)
        func result(_ m: MeasuredFrontier) -> Frontier {
            Frontier(game: g.name, seed: g.seed, scheme: name.rawValue, measured: m, predicted: predicted,
                     predictedSet: predictedSet.description)
        }
        // Scan up by doubling: stable steps are remembered, undecided ones (a contraction too slow to
        // call within the run) are passed over, the first unstable step ends the scan.
        var h = 1e-3 / scale
        var lastStable: Double?, sawUndecided = false
        while true {
            let v = try verdict(h)
            if v == 2 { return result(lastStable.map { .atLeast($0) } ?? .undecided) }
            if v == 1 { break }
            if v == -1 { lastStable = h } else { sawUndecided = true }
            h *= 2
            if h > 1e3 / scale { return result(lastStable != nil ? .bound(.unbounded) : sawUndecided ? .undecided : .bound(.none)) }
        }
        // No stable step: "none" only if nothing before the first unstable step was undecided.
        guard var lo = lastStable else { return result(sawUndecided ? .undecided : .bound(.none)) }
        // Bisect twice: the largest decidedly stable step, then the smallest decidedly unstable
        // one above it. Runs between the two could not decide.
        var hi = h
        var probe = h
        while probe - lo > 1e-6 * probe {
            let mid = (lo + probe) / 2
            let v = try verdict(mid)
            if v == 2 { return result(.atLeast(lo)) }
            if v == -1 { lo = mid } else { probe = mid; if v == 1 { hi = mid } }
        }
        var low = lo
        while hi - low > 1e-6 * hi {
            let mid = (low + hi) / 2
            let v = try verdict(mid)
            if v == 2 { break }
            if v == 1 { hi = mid } else { low = mid }
        }
        if hi - lo <= 2e-6 * hi { return result(.bound(.upTo(lo))) }
        return result(.bracket(stable: lo, unstable: hi))
    }

    // MARK: - Speed

    func speedView() throws -> ([SpeedRow], Throughput?) {
        var rows: [SpeedRow] = []
        let sizes = options.quick ? [10, 100] : [10, 100, 1000]
        for n in sizes {
            let game = try BilinearGame.random(rows: n, columns: n, seed: 1)
            var rng = SeededGenerator(seed: 2)
            let x0 = (0..<(2 * n)).map { _ in rng.normal() }
            for name in schemes {
                if name == .implicitEuler && n >= 1000 {
                    rows.append(SpeedRow(workload: "bilinear n=\(n)", scheme: name.rawValue, microsecondsPerStep: nil,
                                         note: "dense 2000×2000 hybridsj solve per step; not timed"))
                    continue
                }
                let t = try timePerStep(game, try makeScheme(name), x0: x0, h: 0.01, targetSeconds: options.quick ? 0.05 : 0.3)
                rows.append(SpeedRow(workload: "bilinear n=\(n)", scheme: name.rawValue, microsecondsPerStep: t, note: nil))
            }
        }
        let gan = try NetworkGAN.paperSetup(data: .ring8, seed: 1)
        for name in schemes {
            if name == .implicitEuler {
                rows.append(SpeedRow(workload: "mog-ring8 (batch 512)", scheme: name.rawValue, microsecondsPerStep: nil,
                                     note: "dense Jacobian per root iteration; not timed"))
                continue
            }
            let t = try timePerStep(gan, try makeScheme(name), x0: gan.initialState(seed: 1), h: 1e-3, targetSeconds: options.quick ? 0.1 : 0.5)
            rows.append(SpeedRow(workload: "mog-ring8 (batch 512)", scheme: name.rawValue, microsecondsPerStep: t, note: nil))
        }
        return (rows, try throughput(n: options.quick ? 500 : 1000))
    }

    /// Median µs per step over 5 repeats, after a warm-up, with repeats sized to `targetSeconds`.
    /// A run that ends (diverges) while being timed is restarted, so every timed step does work.
    func timePerStep<G: Game, S: Scheme>(_ game: G, _ scheme: S, x0: [Double], h: Double, targetSeconds: Double) throws -> Double {
        let options = SolveOptions(stepSize: h, maxSteps: SolveOptions.maxStepsLimit)
        var integrator = try Integrator(game: game, scheme: scheme, initialState: x0, options: options)
        func advance(_ k: Int) throws {
            for _ in 0..<k {
                if integrator.step() != nil {
                    integrator = try Integrator(game: game, scheme: scheme, initialState: x0, options: options)
                }
            }
        }
        let clock = ContinuousClock()
        var begin = clock.now
        var warm = 0
        while seconds(clock.now - begin) < targetSeconds / 5 || warm < 3 { try advance(1); warm += 1 }
        var samples: [Double] = []
        for _ in 0..<5 {
            begin = clock.now
            try advance(warm)
            samples.append(seconds(clock.now - begin) * 1e6 / Double(warm))
        }
        return samples.sorted()[2]
    }

    /// v(x) on bilinear n×n (reads A and Aᵀ: 2n² doubles) next to one OpenBLAS dgemv on A (n² doubles).
    func throughput(n: Int) throws -> Throughput {
        let game = try BilinearGame.random(rows: n, columns: n, seed: 3)
        var rng = SeededGenerator(seed: 4)
        let x = (0..<(2 * n)).map { _ in rng.normal() }
        var v = [Double](repeating: 0, count: 2 * n), y = [Double](repeating: 0, count: n)
        let clock = ContinuousClock()
        func median(_ body: () -> Void) -> Double {
            for _ in 0..<20 { body() }
            var s: [Double] = []
            for _ in 0..<7 {
                let b = clock.now
                for _ in 0..<50 { body() }
                s.append(seconds(clock.now - b) / 50)
            }
            return s.sorted()[3]
        }
        let tField = median { game.evaluate(at: x, step: 0, into: &v) }
        let a = game.A
        let tGemv = median {
            x.withUnsafeBufferPointer { xs in
                y.withUnsafeMutableBufferPointer { ys in a.gemv(transpose: false, alpha: 1, x: xs.baseAddress!, beta: 0, y: ys.baseAddress!) }
            }
        }
        let bytes = Double(n * n * 8)
        return Throughput(n: n, fieldGBps: 2 * bytes / tField / 1e9, dgemvGBps: bytes / tGemv / 1e9)
    }

    // MARK: - Environment

    func environment() -> [(String, String)] {
        var env: [(String, String)] = []
        #if DEBUG
        env.append(("build", "debug"))
        #else
        env.append(("build", "release"))
        #endif
        env.append(("toolchain", swiftVersion()))
        env.append(("cpu", cpuModel()))
        env.append(("cores", String(ProcessInfo.processInfo.activeProcessorCount)))
        env.append(("blas_threads", String(BLAS.threads)))
        env.append(("gsl", GSL.version))
        env.append(("seeds", options.seeds.map(String.init).joined(separator: " ")))
        env.append(("suite", options.quick ? "quick" : "default"))
        env.append(("date", ISO8601DateFormatter().string(from: Date())))
        return env
    }

    func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let value = line.split(separator: ":", maxSplits: 1).last else { return "unknown" }
        return value.trimmingCharacters(in: .whitespaces)
    }

    func swiftVersion() -> String {
        #if compiler(>=6.3)
        return "Swift 6.3 or later (compiler)"
        #elseif compiler(>=6.1)
        return "Swift 6.1–6.2 (compiler)"
        #else
        return "Swift (compiler < 6.1)"
        #endif
    }
}

