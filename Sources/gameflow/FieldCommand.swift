import ArgumentParser
import Foundation
import GameFlow

struct FieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field",
        abstract: "The vector field v at a state and, along a direction u, the exact products v′u and v′ᵀu (float64).",
        discussion: """
            With --run DIR: the run's trained field (its NK penalty, time scales and
            parts) at its evaluation batch (evaluation_real.npy and
            evaluation_latents.npy in DIR), at its final state; so any outside tool
            can check GameFlow's field. --check compares v′u with central differences
            of v and v′ᵀu with v′u through ⟨w, v′u⟩ = ⟨v′ᵀw, u⟩ (a way to check a
            hand-written game's derivatives); it exits 1 when they disagree.
            Examples:
              gameflow field --run out/ --direction u.npy --json
              gameflow field --game-file game.json --check
            """)

    @OptionGroup var gameOptions: GameOptions

    @Option(help: "The state: a JSON array of numbers or a train state.json (default: the game's x0, or the run's final state).")
    var state: String?

    @Option(help: "A direction u as a NumPy .npy array of n numbers (float64, float32 or uint8; any shape): adds v′u and v′ᵀu.")
    var direction: String?

    @Flag(help: "Check v′u against central differences of v and v′ᵀu against v′u (adjoint identity); exit 1 if either fails.")
    var check = false

    @Flag(help: "Print one JSON object on stdout (keys v, jvp, vjp, and check).")
    var json = false

    @Flag(help: "No notes on stderr.")
    var quiet = false

    /// The largest relative disagreement `--check` accepts: central differences are accurate to
    /// about ε^(2/3) ≈ 4e-11 of the scale for smooth fields; 1e-5 leaves room for curvature.
    static let differenceTolerance = 1e-5
    /// The adjoint identity holds to round-off: 1e-10 of ‖w‖‖v′u‖ + ‖v′ᵀw‖‖u‖.
    static let adjointTolerance = 1e-10

    func run() throws {
        var (game, x) = try gameOptions.makeGame()
        if let path = state { x = try readStateFile(path, dimension: game.dimension) }
        let n = game.dimension
        var u: [Double]?
        if let path = direction {
            let data = try readInput(path, what: "direction file", limit: 1 << 31)
            let array = try NumPyArray(data: data, path: path)
            let values: [Double]
            switch array.pixels {
            case .doubles(let d): values = d
            case .floats(let f): values = f.map(Double.init)
            case .bytes(let b): values = b.map(Double.init)
            }
            guard values.count == n else { throw GameFlowError.invalidInput("direction file '\(path)' has \(values.count) numbers, the game has dimension \(n)") }
            guard values.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("direction file '\(path)' holds a value that is not finite") }
            u = values
        }
        if check && u == nil {
            var rng = SeededGenerator(seed: 0xC4EC)
            u = (0..<n).map { _ in rng.normal() }
        }
        let step = 0   // fixed-batch games (--run) ignore it; deterministic games have one field
        let v = game.vectorField(at: x, step: step)
        var jvp: [Double]?, vjp: [Double]?
        if let u {
            var out = [Double](repeating: 0, count: n)
            game.jacobianVectorProduct(at: x, u, step: step, into: &out)
            jvp = out
            game.transposeJacobianVectorProduct(at: x, u, step: step, into: &out)
            vjp = out
        }
        var checkJSON = JSON.null
        var failed: String?
        if check, let u, let jvp {
            // v′u against (v(x + εu) − v(x − εu))/2ε, ε scaled to x and u.
            let eps = 6.0554544523933395e-06 * max(1, x.map(abs).max() ?? 0) / max(u.map(abs).max() ?? 1, .leastNormalMagnitude)
            let plus = game.vectorField(at: zip(x, u).map { $0 + eps * $1 }, step: step)
            let minus = game.vectorField(at: zip(x, u).map { $0 - eps * $1 }, step: step)
            let fd = zip(plus, minus).map { ($0 - $1) / (2 * eps) }
            let scale = max(fd.map(abs).max() ?? 0, jvp.map(abs).max() ?? 0, .leastNormalMagnitude)
            let jvpError = zip(jvp, fd).map { abs($0 - $1) }.max()! / scale
            var rng = SeededGenerator(seed: 0xAD70)
            let w = (0..<n).map { _ in rng.normal() }
            var vjpW = [Double](repeating: 0, count: n)
            game.transposeJacobianVectorProduct(at: x, w, step: step, into: &vjpW)
            let lhs = dot(w, jvp), rhs = dot(vjpW, u)
            let adjointError = abs(lhs - rhs) / max(norm2(w) * norm2(jvp) + norm2(vjpW) * norm2(u), .leastNormalMagnitude)
            let passed = jvpError <= Self.differenceTolerance && adjointError <= Self.adjointTolerance
            checkJSON = .object([("exact_derivatives", .bool(game.hasExactDerivatives)), ("epsilon", .number(eps)),
                                 ("jvp_vs_differences", .number(jvpError)), ("adjoint_identity", .number(adjointError)),
                                 ("tolerances", .object([("jvp_vs_differences", .number(Self.differenceTolerance)),
                                                         ("adjoint_identity", .number(Self.adjointTolerance))])),
                                 ("passed", .bool(passed))])
            if !passed {
                failed = String(format: "the derivatives disagree: v′u vs central differences %.3g (tolerance %.0e), adjoint identity %.3g (tolerance %.0e)",
                                jvpError, Self.differenceTolerance, adjointError, Self.adjointTolerance)
            }
            if !game.hasExactDerivatives && !quiet {
                writeStandardError("gameflow: note: this game has no exact derivatives: its v′u is itself a finite difference, so --check compares differences with differences\n")
            }
        }
        if json {
            var obj: [(String, JSON)] = [("dimension", .int(n)), ("vector_field_norm", .number(norm2(v))), ("v", .numbers(v))]
            if let jvp, let vjp { obj += [("jvp", .numbers(jvp)), ("vjp", .numbers(vjp))] }
            if check { obj.append(("check", checkJSON)) }
            print(JSON.object(obj).serialized())
        } else {
            print(String(format: "n = %d, ‖v‖ = %.6g", n, norm2(v)) + (jvp.map { String(format: ", ‖v′u‖ = %.6g", norm2($0)) } ?? "")
                  + (vjp.map { String(format: ", ‖v′ᵀu‖ = %.6g", norm2($0)) } ?? ""))
            if case .object(let c) = checkJSON, let e = checkJSON["jvp_vs_differences"], let a = checkJSON["adjoint_identity"], !c.isEmpty {
                print("check: v′u vs central differences \(e.serialized()), adjoint identity \(a.serialized()): " + (failed == nil ? "passed" : "FAILED"))
            }
        }
        if let failed { throw GameFlowError.invalidInput(failed) }
    }
}
