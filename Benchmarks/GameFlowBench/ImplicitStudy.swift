import ArgumentParser
import Foundation
import GameFlow
import GameFlowBenchKit

/// The paper's closing question, measured: does implicit Euler (or a cheaper approximation of it)
/// train the ring8 GAN better than consensus optimisation and SimGA at equal cost, or at equal
/// wall time? Every method runs from the same start with the same minibatches for the same cost
/// budget (field evaluations + JVPs + VJPs), and is measured at 20 points on the way.
struct ImplicitStudy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "implicit-study",
        abstract: "Implicit Euler, its inexact and midpoint variants, consensus and SimGA on ring8 at equal cost and equal wall time.",
        discussion: """
            The README's experiment (two threads, about 25 minutes here):
              gameflow-bench implicit-study --seeds 0,1,2 --budget 60000 --output study/
            writes results.csv (every measurement), table.md and modes-vs-cost.svg, vnorm-vs-cost.svg,
            modes-vs-seconds.svg.
            """)

    @Option(help: "Comma-separated seeds (weights and minibatches).") var seeds = "0,1,2"
    @Option(help: "Cost budget per run: field evaluations + JVPs + VJPs.") var budget = 60_000
    @Option(help: "Measurements per run (evenly spaced in cost).") var points = 20
    @Option(help: "Comma-separated substrings: keep only the methods whose labels contain one.") var filter: String?
    @Option(help: "Threads (runs are independent; each has its own game).") var threads = 2
    @Option(help: "Hidden activation: relu (the paper's; v is discontinuous) or tanh (v is smooth).") var activation = "relu"
    @Option(help: "Write results.csv, table.md and the figures here.") var output: String
    @Option(name: .customLong("from"), help: "Make table.md and the figures again from this results.csv (no runs).") var from: String?
    @Flag(name: .customLong("allow-debug")) var allowDebug = false

    /// One method of the study.
    struct Method: Sendable {
        let label: String
        let scheme: @Sendable () throws -> any Scheme
        let h: Double
    }

    @Sendable static func implicit(_ k: Int? = nil, _ m: Int? = nil, stall: Double = 0.1) -> ImplicitSolverOptions {
        var o = ImplicitSolverOptions(method: .newtonKrylov, stallTolerance: stall)
        if let k, let m { o.budget = (k, m) }
        return o
    }

    static var methods: [Method] {
        let rms = Preconditioner.referenceRMSProp
        return [
            Method(label: "SimGA + RMSProp, h 1e-4", scheme: { try preconditioned(SimGA(), rms) }, h: 1e-4),
            Method(label: "consensus γ 10 + RMSProp, h 1e-4", scheme: { try preconditioned(try Consensus(gamma: 10), rms) }, h: 1e-4),
            Method(label: "implicit Euler, RMSProp metric, h 1e-4", scheme: { try ImplicitEuler(implicit(), metric: rms) }, h: 1e-4),
            Method(label: "implicit Euler, RMSProp metric, h 3e-4", scheme: { try ImplicitEuler(implicit(), metric: rms) }, h: 3e-4),
            Method(label: "implicit midpoint, RMSProp metric, h 1e-4", scheme: { try ImplicitMidpoint(implicit(), metric: rms) }, h: 1e-4),
            Method(label: "inexact IE K1 M1, RMSProp metric, h 1e-4", scheme: { try ImplicitEuler(implicit(1, 1), metric: rms) }, h: 1e-4),
            Method(label: "inexact IE K1 M3, RMSProp metric, h 1e-4", scheme: { try ImplicitEuler(implicit(1, 3), metric: rms) }, h: 1e-4),
            Method(label: "inexact IE K2 M3, RMSProp metric, h 1e-4", scheme: { try ImplicitEuler(implicit(2, 3), metric: rms) }, h: 1e-4),
            Method(label: "implicit Euler, plain, h 0.01", scheme: { try ImplicitEuler(implicit()) }, h: 0.01),
            Method(label: "implicit Euler, plain, h 0.03", scheme: { try ImplicitEuler(implicit()) }, h: 0.03),
            Method(label: "SimGA, plain, h 0.01", scheme: { SimGA() }, h: 0.01),
            // A looser stall tolerance: steps whose implicit equation is solved only to a
            // backward error of 50 % (ReLU's discontinuous v; see the README).
            Method(label: "implicit Euler, RMSProp metric, h 1e-4, stall 0.5", scheme: { try ImplicitEuler(implicit(stall: 0.5), metric: rms) }, h: 1e-4),
            Method(label: "implicit Euler, RMSProp metric, h 3e-4, stall 0.5", scheme: { try ImplicitEuler(implicit(stall: 0.5), metric: rms) }, h: 3e-4),
            Method(label: "implicit Euler, RMSProp metric, h 1e-3, stall 0.5", scheme: { try ImplicitEuler(implicit(stall: 0.5), metric: rms) }, h: 1e-3),
            Method(label: "implicit Euler, plain, h 0.01, stall 0.5", scheme: { try ImplicitEuler(implicit(stall: 0.5)) }, h: 0.01),
        ]
    }

    struct Row: Sendable {
        var method: String, seed: UInt64, step: Int, cost: Int, seconds: Double
        var modes: Int, highQuality: Double, vNorm: Double, status: String, stalls: Int
    }

    func run() throws {
        if let path = from { return try replot(path) }
        try Bench.requireRelease(allowDebug: allowDebug)
        BLAS.useSingleThreadUnlessConfigured()
        let seedList = try seeds.split(separator: ",").map { s -> UInt64 in
            guard let v = UInt64(s.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds: '\(s)' is not a seed") }
            return v
        }
        guard budget >= 10, (1...1000).contains(points), (1...64).contains(threads) else {
            throw ValidationError("--budget must be ≥ 10, --points 1…1000, --threads 1…64")
        }
        let words = filter.map { $0.split(separator: ",").map(String.init) } ?? []
        let methods = Self.methods.filter { m in words.isEmpty || words.contains { m.label.contains($0) } }
        guard !methods.isEmpty else { throw ValidationError("--filter keeps no method") }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let jobs = methods.flatMap { m in seedList.map { (m, $0) } }
        let results = Locked([[Row]](repeating: [], count: jobs.count))
        let failures = Locked([String]())
        let next = Locked(0)
        let group = DispatchGroup()
        guard let act = Activation(rawValue: activation) else { throw ValidationError("--activation must be relu, leaky-relu, tanh or linear") }
        let budget = budget, points = points
        for _ in 0..<min(threads, jobs.count) {
            group.enter()
            Thread {
                while true {
                    let i: Int = next.withLock { k in defer { k += 1 }; return k }
                    if i >= jobs.count { break }
                    do {
                        let rows = try Self.runOne(jobs[i].0, seed: jobs[i].1, budget: budget, points: points, activation: act)
                        results.withLock { $0[i] = rows }
                        let last = rows.last!
                        FileHandle.standardError.write(Data("implicit-study: \(jobs[i].0.label), seed \(jobs[i].1): \(last.status) at cost \(last.cost), \(last.modes) modes, ‖v‖ \(String(format: "%.3g", last.vNorm)), \(String(format: "%.1f", last.seconds)) s\n".utf8))
                    } catch {
                        failures.withLock { $0.append("\(jobs[i].0.label), seed \(jobs[i].1): \(error)") }
                    }
                }
                group.leave()
            }.start()
        }
        group.wait()
        if let f = failures.withLock({ $0.first }) { throw ValidationError(f) }
        let rows = results.withLock { $0 }.flatMap { $0 }
        try writeOutputs(rows, methods: methods.map(\.label), seeds: seedList, activation: activation)
    }

    /// table.md and the figures from an earlier run's results.csv (methods in file order).
    private func replot(_ path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read '\(path)'") }
        var rows: [Row] = []
        for (k, line) in text.split(separator: "\n").enumerated() where k > 0 {
            // "method",seed,step,cost,seconds,modes,hq,v,status,stalls — the method is quoted.
            guard line.first == "\"", let close = line.dropFirst().firstIndex(of: "\"") else { throw ValidationError("\(path): line \(k + 1) has no quoted method") }
            let method = String(line[line.index(after: line.startIndex)..<close])
            let f = line[line.index(close, offsetBy: 2)...].split(separator: ",").map(String.init)
            guard f.count == 9, let seed = UInt64(f[0]), let step = Int(f[1]), let cost = Int(f[2]), let sec = Double(f[3]),
                  let modes = Int(f[4]), let hq = Double(f[5]), let v = Double(f[6]), let stalls = Int(f[8]) else {
                throw ValidationError("\(path): line \(k + 1) is not a results row")
            }
            rows.append(Row(method: method, seed: seed, step: step, cost: cost, seconds: sec, modes: modes, highQuality: hq,
                            vNorm: v, status: f[7], stalls: stalls))
        }
        var methods: [String] = [], seedList: [UInt64] = []
        for r in rows {
            if !methods.contains(r.method) { methods.append(r.method) }
            if !seedList.contains(r.seed) { seedList.append(r.seed) }
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try writeOutputs(rows, methods: methods, seeds: seedList, activation: activation)
    }

    /// One run: measured at cost 0 and every budget/points after, and where it stops.
    static func runOne(_ m: Method, seed: UInt64, budget: Int, points: Int, activation: Activation) throws -> [Row] {
        let game = try NetworkGAN.paperSetup(data: .ring8, activation: activation, seed: seed)
        let scheme = try m.scheme()
        return try runOpened(scheme, game: game, m: m, seed: seed, budget: budget, points: points)
    }

    private static func runOpened<S: Scheme>(_ scheme: S, game: NetworkGAN, m: Method, seed: UInt64, budget: Int, points: Int) throws -> [Row] {
        var integrator = try Integrator(game: game, scheme: scheme, initialState: game.initialState(seed: seed),
                                        options: SolveOptions(stepSize: m.h, maxSteps: SolveOptions.maxStepsLimit))
        var rows: [Row] = []
        var seconds = 0.0
        func cost(_ s: Stats) -> Int { s.fieldEvaluations + s.jacobianVectorProducts + s.transposeJacobianVectorProducts }
        func measure(_ status: String) {
            let samples = game.samples(at: integrator.state, count: 10_000, sampleSeed: 0xE7A1)
            let c = ModeCoverage(samples: samples, mixture: game.data!)
            let v = norm2(game.vectorField(at: integrator.state, step: NetworkGAN.evaluationStep))
            rows.append(Row(method: m.label, seed: seed, step: integrator.stepsCompleted, cost: cost(integrator.stats),
                            seconds: seconds, modes: c.modesCaptured, highQuality: c.highQualityFraction, vNorm: v,
                            status: status, stalls: integrator.stats.rootStalls))
        }
        measure("running")
        var nextMark = budget / points
        let clock = ContinuousClock()
        while cost(integrator.stats) < budget {
            let t0 = clock.now
            let status = integrator.step()
            seconds += GameFlow.seconds(clock.now - t0)
            if let s = status, !s.isSuccessful { measure(s.name); return rows }
            if cost(integrator.stats) >= nextMark {
                measure(cost(integrator.stats) >= budget ? "completed" : "running")
                while nextMark <= cost(integrator.stats) { nextMark += budget / points }
            }
        }
        if rows.last?.status != "completed" { measure("completed") }
        return rows
    }

    private func writeOutputs(_ rows: [Row], methods: [String], seeds: [UInt64], activation: String) throws {
        var csv = "method,seed,step,cost,seconds,modes_captured,high_quality_fraction,vector_field_norm,status,root_stalls\n"
        for r in rows {
            csv += "\"\(r.method)\",\(r.seed),\(r.step),\(r.cost),\(r.seconds),\(r.modes),\(r.highQuality),\(r.vNorm),\(r.status),\(r.stalls)\n"
        }
        try csv.write(toFile: output + "/results.csv", atomically: true, encoding: .utf8)

        // Equal wall time: the least time any method took for the whole budget.
        let finalRows = methods.map { m in seeds.compactMap { s in rows.last { $0.method == m && $0.seed == s } } }
        let wall = finalRows.flatMap { $0 }.filter { $0.status == "completed" }.map(\.seconds).min() ?? 0
        func median(_ a: [Double]) -> Double { let s = a.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }
        var md = "ring8, 4×16 \(activation), batch 512. Budget \(budget) (field evaluations + JVPs + VJPs) per run, seeds \(seeds.map(String.init).joined(separator: ", ")); "
            + String(format: "equal wall time = %.1f s (the fastest completed run's time for the whole budget). "
            + "Modes are per seed; a run that failed shows the cost it reached.\n\n", wall)
        md += "| method | modes at equal cost | HQ (median) | ‖v‖ (median) | steps (median) | seconds (median) | stalled solves | modes at \(String(format: "%.0f", wall)) s |\n"
        md += "|---|---|---|---|---|---|---|---|\n"
        for (m, finals) in zip(methods, finalRows) {
            let atWall = seeds.map { s -> String in
                rows.last { $0.method == m && $0.seed == s && $0.seconds <= wall }.map { "\($0.modes)" } ?? "–"
            }
            let statuses = finals.map { $0.status == "completed" ? "\($0.modes)" : "\($0.modes) (\($0.status) at \($0.cost))" }
            md += "| \(m) | \(statuses.joined(separator: " / ")) | "
                + String(format: "%.3f | %.3g | %.0f | %.1f | ", median(finals.map(\.highQuality)), median(finals.map(\.vNorm)),
                         median(finals.map { Double($0.step) }), median(finals.map(\.seconds)))
                + "\(finals.map(\.stalls).reduce(0, +)) | \(atWall.joined(separator: " / ")) |\n"
        }
        try md.write(toFile: output + "/table.md", atomically: true, encoding: .utf8)
        print(md)

        // Figures: the median over seeds at each measurement point, one line per method.
        func figure(_ title: String, x: KeyPath<Row, Double>, xLabel: String, y: @escaping (Row) -> Double, yLabel: String,
                    logY: Bool, file: String) throws {
            var plot = Plot(title: title, xLabel: xLabel, yLabel: yLabel)
            if logY { plot.yScale = .log }
            for (k, m) in methods.enumerated() {
                let runs = seeds.map { s in rows.filter { $0.method == m && $0.seed == s } }
                let n = runs.map(\.count).min() ?? 0
                guard n > 0 else { continue }
                let pts = (0..<n).map { i in (median(runs.map { $0[i][keyPath: x] }), median(runs.map { y($0[i]) })) }
                    .filter { !logY || $0.1 > 0 }
                plot.add(m, .lineWithMarkers(pts, [.circle, .square, .cross, .diamond][k % 4]), color: Self.colors[k % Self.colors.count])
            }
            plot.notes = ["median over seeds \(seeds.map(String.init).joined(separator: ", ")); ring8, 4×16 \(activation), batch 512"]
            try plot.svg().write(toFile: output + "/" + file, atomically: true, encoding: .utf8)
        }
        let costPath: KeyPath<Row, Double> = \.costValue, secondsPath: KeyPath<Row, Double> = \.seconds
        try figure("Modes captured vs cost (ring8)", x: costPath, xLabel: "cost (field evaluations + JVPs + VJPs)",
                   y: { Double($0.modes) }, yLabel: "modes captured (of 8)", logY: false, file: "modes-vs-cost.svg")
        try figure("‖v‖ vs cost (ring8)", x: costPath, xLabel: "cost (field evaluations + JVPs + VJPs)",
                   y: { $0.vNorm }, yLabel: "‖v‖ on the evaluation batch", logY: true, file: "vnorm-vs-cost.svg")
        try figure("Modes captured vs wall time (ring8)", x: secondsPath, xLabel: "seconds of training (one thread)",
                   y: { Double($0.modes) }, yLabel: "modes captured (of 8)", logY: false, file: "modes-vs-seconds.svg")
    }
}

extension ImplicitStudy {
    /// Sixteen distinguishable colours (the plot palette's ten, then six more), one per method.
    static let colors = Plot.palette + ["#000000", "#f781bf", "#999999", "#a65628", "#4daf4a", "#377eb8"]
}

extension ImplicitStudy.Row {
    var costValue: Double { Double(cost) }
}

/// A value behind a lock, for the study's worker threads.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func withLock<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}
