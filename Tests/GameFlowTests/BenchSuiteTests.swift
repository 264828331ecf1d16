import Foundation
import Testing
import GameFlow
import GameFlowTestSupport
@testable import GameFlowBenchKit

/// A tiny suite run in-process: the table's structure and rows that theory fixes.
@Suite struct BenchSuiteTests {
    static let results: SuiteResults = {
        let options = SuiteOptions(quick: true, seeds: [0], gameFilter: ["dirac-r1", "affine-pair"],
                                   schemeFilter: ["simga", "extragradient", "implicit-euler"], includeGAN: false, includeSpeed: false)
        return try! SuiteRunner(options: options).run()
    }()

    @Test("Every cell of the filtered sweep is present, with statuses from the documented set")
    func cells() throws {
        let r = Self.results
        #expect(Set(r.cells.map(\.game)) == ["dirac-r1-0.3", "affine-pair"])
        #expect(Set(r.cells.map(\.scheme)) == ["simga", "extragradient", "implicit-euler"])
        // 4 step sizes (quick grid) × 3 schemes × 2 games.
        #expect(r.cells.count == 24)
        #expect(r.cells.allSatisfy { ["converged", "diverged", "failed", "stalled"].contains($0.status) })
        // On the affine pair Euler's error shrinks exactly for the grid steps below Lemma 4's h*
        // (≈ 0.086 here) and grows above it; implicit Euler's shrinks at every step.
        let m = (try SuiteGames.affinePair(seed: 0, quick: true).game as! AffineGame).M
        let hStar = 2 * abs(m[0, 0]) / (m[0, 0] * m[0, 0] + m[0, 1] * m[0, 1])
        for c in r.cells where c.game == "affine-pair" {
            if c.scheme == "simga" && abs(c.h - hStar) > 0.01 { #expect((c.finalError < c.initialError) == (c.h < hStar), "h = \(c.h)") }
            if c.scheme == "implicit-euler" { #expect(c.finalError < c.initialError) }
        }
    }

    @Test("Measured rates equal predicted ones to 1e-6 where resolved; Euler's frontier matches Lemma 4 to 1e-3")
    func theory() throws {
        let report = SuiteReport(Self.results)
        let agreement = report.rateAgreement()
        #expect(!agreement.isEmpty)
        for row in agreement { #expect(row.maxRelativeDifference < 1e-5, "\(row.family) \(row.scheme): \(row.maxRelativeDifference)") }
        let euler = try #require(Self.results.frontiers.first { $0.game == "affine-pair" && $0.scheme == "simga" })
        let stable: Double, unstable: Double
        switch euler.measured {
        case .bound(.upTo(let h)): (stable, unstable) = (h, h)
        case .bracket(let a, let b): (stable, unstable) = (a, b)
        default: Issue.record("frontier not measured: \(euler)"); return
        }
        let predicted = try #require(euler.predicted.value)
        let measured = (stable + unstable) / 2
        // Lemma 4 from the game's own eigenvalues a ± ib.
        let game = try SuiteGames.affinePair(seed: 0, quick: true)
        let m = (game.game as! AffineGame).M
        let a = m[0, 0], b = m[0, 1]
        #expect(relativeError(predicted, 2 * abs(a) / (a * a + b * b)) < 1e-9)
        #expect(relativeError(measured, predicted) < 1e-3)
        #expect((unstable - stable) / predicted < 1e-3)
    }

    @Test("Markdown has its sections and a well-formed table; JSON parses; figures are SVG")
    func outputs() throws {
        let report = SuiteReport(Self.results)
        let md = report.markdown()
        for heading in ["## Contraction rates", "## Stability frontier", "## Reaching the tolerance", "## Equal cost"] {
            #expect(md.contains(heading), "\(heading)")
        }
        let tableLines = md.split(separator: "\n").filter { $0.hasPrefix("| affine-pair | 0 | simga |") }
        #expect(tableLines.count == 1)
        #expect(tableLines.first?.split(separator: "|").count == 7)
        // The frontier table has the predicted stable set beside the first interval.
        let frontierLines = md.split(separator: "\n").filter { $0.hasPrefix("| game | seed | scheme | predicted |") }
        #expect(frontierLines.first?.contains("predicted stable set") == true)
        let json = try JSONSerialization.jsonObject(with: Data(report.json().serialized().utf8)) as? [String: Any]
        #expect((json?["cells"] as? [Any])?.count == 24)
        let csvRows = report.csv().split(separator: "\n")
        #expect(csvRows.count == 25 && csvRows[0].hasPrefix("game,seed,scheme,h,status"))
        for (_, plot) in report.equalCostFigures() {
            #expect(SVGChecker.check(plot.svg()).wellFormed)
            // Clipped at 1e-16 of the initial error, ticks on whole decades.
            #expect(plot.yRange?.lowerBound == 1e-16)
            #expect(plot.yTicks?.allSatisfy { $0.label.hasPrefix("1e") && log10($0.position) == log10($0.position).rounded() } == true)
        }
        // The verdict names, per game, the scheme that reaches the tolerance at the least cost.
        #expect(md.contains("## Verdict: which scheme?"))
        for game in Set(Self.results.cells.map(\.game)) {
            let seed = Self.results.cells.first { $0.game == game }!.seed
            let cheapest = Self.results.cells.filter { $0.game == game && $0.seed == seed && $0.status == "converged" }
                .min { ($0.costToTolerance ?? .max) < ($1.costToTolerance ?? .max) }
            guard let c = cheapest else { continue }
            let line = md.split(separator: "\n").first { $0.hasPrefix("- **\(game)**") }
            #expect(line?.contains("cheapest to the tolerance \(c.scheme) (cost \(c.costToTolerance!)") == true, "\(game): \(line ?? "none")")
        }
    }
}

@Suite struct BenchStatusTests {
    @Test("A cell whose error grows by more than 1e6 before the budget ends is 'diverged', not 'stalled'; a bounded orbit stays 'stalled'")
    func divergedNotStalled() throws {
        let game = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1]))
        // SimGA at h = 0.5 grows by √1.25 a step: 1.118^300 ≈ 3e14 after 300 steps, far below 1e100.
        let g = BenchGame(name: "rotation", seed: 0, game: game, start: [1, 0], stepGrid: [0.5], maxSteps: 300, isLinear: true, skip: [:])
        let runner = SuiteRunner(options: SuiteOptions(quick: true))
        let grow = try runner.runCell(game, g, SimGA(), name: .simga, h: 0.5)
        #expect(grow.status == "diverged", "\(grow.status), final error \(grow.finalError)")
        #expect(grow.finalError < 1e100 && grow.finalError > 1e6)
        // AltGA's orbit is bounded: neither converged nor diverged.
        let orbit = try runner.runCell(game, g, AltGA(), name: .altga, h: 0.5)
        #expect(orbit.status == "stalled")
    }
}

@Suite struct BenchSpeedViewTests {
    @Test("The suite's speed view runs (its timing loop once asked for more steps than a run may take)")
    func speedView() throws {
        let options = SuiteOptions(quick: true, seeds: [0], gameFilter: ["dirac"], schemeFilter: ["simga"], includeGAN: false, includeSpeed: true)
        let r = try SuiteRunner(options: options).run()
        // One row per workload for the one scheme, each timed (a finite positive time, no note),
        // and the throughput probe's figures finite and positive.
        #expect(r.speed.map(\.workload) == ["bilinear n=10", "bilinear n=100", "mog-ring8 (batch 512)"])
        #expect(r.speed.allSatisfy { $0.scheme == "simga" && $0.note == nil })
        #expect(r.speed.allSatisfy { t in t.microsecondsPerStep.map { $0.isFinite && $0 > 0 } ?? false })
        let t = try #require(r.throughput)
        #expect(t.n == 500 && t.fieldGBps.isFinite && t.fieldGBps > 0 && t.dgemvGBps.isFinite && t.dgemvGBps > 0)
    }
}
