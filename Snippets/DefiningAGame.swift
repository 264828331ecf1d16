import GameFlow

// The zero-sum quartic game: player 1 (x) maximises f(x, y) = x·y − x²/2 + y²/2 + x⁴/4 − y⁴/4,
// player 2 (y) maximises g = −f. So v(x, y) = (∂f/∂x, −∂f/∂y).
struct Quartic: Game {
    var name: String { "quartic" }
    var dimension: Int { 2 }                       // required: n, the length of the state
    var players: [Range<Int>] { [0..<1, 1..<2] }   // required: each player's block of the state
    var equilibrium: [Double]? { [0, 0] }          // optional: a known zero of v
    var hasExactDerivatives: Bool { true }         // the products below are exact

    // Required: v(x) into v, in place (no allocation on the hot path).
    func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        v[0] = x[1] - x[0] + x[0] * x[0] * x[0]
        v[1] = -(x[0] + x[1] - x[1] * x[1] * x[1])
    }

    // Optional (finite differences otherwise): the dense Jacobian v′(x), row-major.
    func jacobian(at x: [Double], step: Int, into out: inout [Double]) {
        out[0] = -1 + 3 * x[0] * x[0]; out[1] = 1
        out[2] = -1; out[3] = -1 + 3 * x[1] * x[1]
    }

    // Optional: v′(x)·u and v′(x)ᵀ·u (used by consensus, SGA and the implicit schemes).
    func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        out[0] = (-1 + 3 * x[0] * x[0]) * u[0] + u[1]
        out[1] = -u[0] + (-1 + 3 * x[1] * x[1]) * u[1]
    }

    func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        out[0] = (-1 + 3 * x[0] * x[0]) * u[0] - u[1]
        out[1] = u[0] + (-1 + 3 * x[1] * x[1]) * u[1]
    }
}

let game = Quartic()
// Check the hand-written JVP against a central difference before trusting it.
var exact = [0.0, 0.0], approximate = [0.0, 0.0]
game.jacobianVectorProduct(at: [0.3, -0.2], [1, 2], step: 0, into: &exact)
game.finiteDifferenceJVP(at: [0.3, -0.2], [1, 2], step: 0, into: &approximate)
print("JVP error:", zip(exact, approximate).map { abs($0 - $1) }.max()!)

let solution = try solve(game, scheme: try ImplicitEuler(tolerance: 1e-12, maxIterations: 50),
                         from: [0.3, 0.2], options: SolveOptions(stepSize: 0.5, maxSteps: 200, tolerance: 1e-12))
print(solution.status, solution.steps, solution.distanceToEquilibrium!)
