import ArgumentParser
import Foundation
import GameFlow

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A one-minute tour: every scheme on the bilinear game f = φθ and on the Dirac-GAN, next to theory.")

    func run() throws {
        print("""
            GameFlow demo. Players maximise their utilities; training integrates dx/dt = v(x).

            1) Bilinear game f(φ, θ) = φ·θ (g = −f), v = (θ, −φ), from (1, 1), h = 0.5, 40 steps.
               The exact flow rotates: ‖x‖ stays √2. Each scheme multiplies ‖x‖ per step by a
               factor predicted by its stability function at z = ±0.5i.

            """)
        let h = 0.5, steps = 40
        let bilinear = try BilinearGame(A: Matrix(rows: 1, columns: 1, storage: [1]))
        let x0 = [1.0, 1.0]
        let s2 = h * h
        let predicted: [(SchemeName, Double?)] = [
            (.simga, (1 + s2).squareRoot()),
            (.altga, nil),
            (.heun, (1 + s2 * s2 / 4).squareRoot()),
            (.rk4, (1 - pow(h, 6) / 72 + pow(h, 8) / 576).squareRoot()),
            (.extragradient, (1 - s2 + s2 * s2).squareRoot()),
            (.consensus, ((1 - h * h) * (1 - h * h) + s2).squareRoot()),
            (.optimistic, nil),
            (.implicitEuler, 1 / (1 + s2).squareRoot()),
        ]
        print(row("scheme", "‖x_40‖", "measured rate", "predicted", "evaluations", "status"))
        for (name, rate) in predicted {
            let scheme = try name.make(.init(gamma: h))
            let s = try solve(bilinear, scheme: scheme, from: x0, options: SolveOptions(stepSize: h, maxSteps: steps))
            let measured = pow(norm2(s.finalState) / norm2(x0), 1 / Double(s.steps))
            let label = name == .consensus ? "consensus γ=h" : name.rawValue
            let evals = s.stats.fieldEvaluations + s.stats.transposeJacobianVectorProducts
            print(row(label, fmt(norm2(s.finalState)), fmt(measured), rate.map(fmt) ?? "—", "\(evals)", s.status.name))
        }
        print("""

            2) Dirac-GAN (Mescheder et al. 2018), x = (θ, ψ) from (1, 1), h = 0.2, 500 steps.
               Unregularised, the exact flow keeps θ² + ψ² = 2; with R1 γ = 1 it converges.

            """)
        print(row("scheme", "R1 γ", "‖x_500‖", "status", "", ""))
        for (name, r1) in [(SchemeName.simga, 0.0), (.rk4, 0), (.extragradient, 0), (.implicitEuler, 0), (.simga, 1)] {
            let s = try solve(try DiracGAN(r1: r1), scheme: try name.make(.init()), from: x0,
                              options: SolveOptions(stepSize: 0.2, maxSteps: 500))
            print(row(name.rawValue, fmt(r1), fmt(norm2(s.finalState)), s.status.name, "", ""))
        }
        print("\nNext: gameflow run --help")
    }

    private func fmt(_ d: Double) -> String { String(format: "%.6g", d) }

    private func row(_ a: String, _ b: String, _ c: String, _ d: String, _ e: String, _ f: String) -> String {
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(1, w - s.count)) }
        return "   " + pad(a, 16) + pad(b, 12) + pad(c, 15) + pad(d, 12) + pad(e, 13) + f
    }
}
