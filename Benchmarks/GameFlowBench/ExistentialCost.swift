import ArgumentParser
import Foundation
import GameFlow

/// What a run costs when its game and scheme are chosen at run time (`any Game`, `any Scheme`,
/// as the CLI and `SchemeName.make` give them) against the same run with concrete types that
/// the compiler specialises: `solve` opens the existentials once, but the opened generic code
/// is not specialised, so every evaluation of v and every scheme step goes through witness
/// tables. Measured on a 2-D game, where the field itself costs a few nanoseconds and the
/// difference shows most.
struct ExistentialCost: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "existential",
        abstract: "ns per step of SimGA, consensus and RK4 on the 2-D Dirac-GAN: concrete types vs any Game/any Scheme (alternated repeats).")

    @Option(help: "Steps per timed run.") var steps = 2_000_000
    @Option(help: "Alternated repeats (the median is reported).") var repeats = 7
    @Flag(name: .customLong("allow-debug")) var allowDebug = false

    func run() throws {
        try Bench.requireRelease(allowDebug: allowDebug)
        guard steps >= 1, repeats >= 1 else { throw ValidationError("--steps and --repeats must be ≥ 1") }
        let game = try DiracGAN(r1: 0.3)
        // A tiny h keeps the state away from 0 (no subnormal numbers) for the whole run.
        let options = SolveOptions(stepSize: 1e-9, maxSteps: steps)
        let clock = ContinuousClock()
        func time<G: Game, S: Scheme>(_ g: G, _ s: S) throws -> Double {
            var integrator = try Integrator(game: g, scheme: s, initialState: [1, 1], options: options)
            let begin = clock.now
            _ = integrator.solve()
            return seconds(clock.now - begin) * 1e9 / Double(steps)
        }
        func timeAny(_ g: any Game, _ s: any Scheme) throws -> Double {
            let begin = clock.now
            _ = try solve(g, scheme: s, from: [1, 1], options: options)
            return seconds(clock.now - begin) * 1e9 / Double(steps)
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        print("Dirac-GAN (n = 2), \(steps) steps per run, median of \(repeats) alternated repeats (ns per step)")
        print("scheme      concrete   any Game/any Scheme   ratio")
        for (label, concrete, erased) in [
            ("simga", { try time(game, SimGA()) }, { try timeAny(game as any Game, SimGA() as any Scheme) }),
            ("consensus", { try time(game, try Consensus(gamma: 0.5)) }, { try timeAny(game as any Game, try Consensus(gamma: 0.5) as any Scheme) }),
            ("rk4", { try time(game, RK4()) }, { try timeAny(game as any Game, RK4() as any Scheme) }),
        ] as [(String, () throws -> Double, () throws -> Double)] {
            var a: [Double] = [], b: [Double] = []
            for _ in 0..<repeats { a.append(try concrete()); b.append(try erased()) }
            print(label.padding(toLength: 11, withPad: " ", startingAt: 0)
                  + String(format: " %8.1f   %19.1f   %5.2f", median(a), median(b), median(b) / median(a)))
        }
    }
}
