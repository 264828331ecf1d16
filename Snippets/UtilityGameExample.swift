import GameFlow

// A game from its utilities, written once generically: GameFlow differentiates them exactly
// (forward-mode dual numbers), so every scheme and analysis gets v, v′u, v′ᵀu and v′.
// Player x maximises f(x, y) = x·y − x⁴/4 + y⁴/4 and player y maximises −f (the zero-sum
// shorthand: one utility).
struct Quartic: ZeroSumUtility {
    func f<T: GameScalar>(_ v: [T]) -> T {
        let x = v[0], y = v[1]
        return x * y - T.power(x, 4) / T(4) + T.power(y, 4) / T(4)
    }
}

let game = try UtilityGame(Quartic(), playerSizes: [1, 1], name: "quartic", equilibrium: [0, 0])
print("v(1, 2) =", game.vectorField(at: [1, 2]))
print("v′(1, 2) =", game.jacobianMatrix(at: [1, 2]).storage)
let s = try solve(game, scheme: try Consensus(gamma: 0.5), from: [0.3, 0.2], options: SolveOptions(stepSize: 0.1, maxSteps: 500))
print(s.status, s.distanceToEquilibrium!)

// The same game as a formula, as a game file would give it.
let formula = try Formula.parse("x*y - x^4/4 + y^4/4", variables: ["x", "y"])
let fromFile = try UtilityGame(FormulaUtilities([formula, .negate(formula)]), playerSizes: [1, 1])
print("same field:", fromFile.vectorField(at: [1, 2]) == game.vectorField(at: [1, 2]))
