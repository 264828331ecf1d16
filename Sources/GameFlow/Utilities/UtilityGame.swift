/// Players' utilities written once, generically over `GameScalar`: player p maximises
/// `utility(p, at: x)`. `UtilityGame` derives everything else from them exactly.
public protocol Utilities: Sendable {
    /// Player `player`'s utility at x.
    func utility<T: GameScalar>(_ player: Int, at x: [T]) -> T
}

/// The zero-sum shorthand: one utility f; player 0 maximises f and player 1 maximises −f.
public protocol ZeroSumUtility: Utilities {
    /// f, the first player's utility.
    func f<T: GameScalar>(_ x: [T]) -> T
}

extension ZeroSumUtility {
    public func utility<T: GameScalar>(_ player: Int, at x: [T]) -> T { player == 0 ? f(x) : -f(x) }
}

/// A game given by its players' utilities, with exact derivatives by forward-mode automatic
/// differentiation (`Dual`, nested for second order): vᵢ = ∂f_p/∂xᵢ for i in player p's block,
/// v′ = the rows of the players' Hessians.
///
/// Why forward mode: a utility is ordinary Swift code, generic over its scalar, so evaluating it
/// at dual numbers differentiates it exactly, with no graph to record and no experimental
/// compiler support (`_Differentiation`); the games are small (formula games, the zoo), where
/// n passes cost less than building a tape. Cost, with C one evaluation of a utility and n the
/// dimension (P players): v takes n passes at `Dual<Double>` (≈ 3C each); v′u takes n passes at
/// `Dual<Dual<Double>>` (≈ 9C each: (v′u)ᵢ = (H_p u)ᵢ); v′ᵀu = Σ_p H_p·P_p·u (each H_p is
/// symmetric) takes P·n such passes; the dense v′ takes n² of them. Each call allocates its
/// dual arrays (length n); these games are meant for n up to a few hundred.
public struct UtilityGame<U: Utilities>: Game {
    /// The players' utilities.
    public let utilities: U
    public let name: String
    public let players: [Range<Int>]
    public let equilibrium: [Double]?
    let owner: [Int]

    /// A game from its players' utilities.
    /// - Parameters:
    ///   - utilities: the players' utilities.
    ///   - playerSizes: the sizes of the players' blocks of x, in order.
    ///   - name: a short name for reports.
    ///   - equilibrium: a known zero of v, if any.
    public init(_ utilities: U, playerSizes: [Int], name: String = "utilities", equilibrium: [Double]? = nil) throws {
        guard !playerSizes.isEmpty, playerSizes.allSatisfy({ $0 >= 1 }) else {
            throw GameFlowError.invalidInput("utility game: every player needs at least one variable (got sizes \(playerSizes))")
        }
        self.utilities = utilities
        self.name = name
        self.players = playerBlocks(sizes: playerSizes)
        var owner: [Int] = []
        for (p, s) in playerSizes.enumerated() { owner += [Int](repeating: p, count: s) }
        self.owner = owner
        if let e = equilibrium, e.count != owner.count {
            throw GameFlowError.invalidInput("utility game: the equilibrium has \(e.count) entries, the game has dimension \(owner.count)")
        }
        self.equilibrium = equilibrium
    }

    public var dimension: Int { owner.count }
    public var hasExactDerivatives: Bool { true }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        var d = x.map { Dual<Double>($0, 0) }
        for i in 0..<dimension {
            d[i].tangent = 1
            v[i] = utilities.utility(owner[i], at: d).tangent
            d[i].tangent = 0
        }
    }

    public func evaluate(at x: [Double], step: Int, player: Int, into v: inout [Double]) {
        var d = x.map { Dual<Double>($0, 0) }
        for i in players[player] {
            d[i].tangent = 1
            v[i] = utilities.utility(player, at: d).tangent
            d[i].tangent = 0
        }
    }

    /// (H_p·w)ᵢ, the ε₁ε₂ part of f_p at x + ε₂eᵢ + ε₁w.
    @inline(__always)
    private func hessianEntry(_ d: inout [Dual<Dual<Double>>], _ p: Int, _ i: Int) -> Double {
        d[i].value.tangent = 1
        defer { d[i].value.tangent = 0 }
        return utilities.utility(p, at: d).tangent.tangent
    }

    private func seeded(_ x: [Double], _ w: [Double]) -> [Dual<Dual<Double>>] {
        (0..<x.count).map { Dual(Dual(x[$0], 0), Dual(w[$0], 0)) }
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        var d = seeded(x, u)
        for i in 0..<dimension { out[i] = hessianEntry(&d, owner[i], i) }
    }

    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        for i in 0..<dimension { out[i] = 0 }
        for (p, block) in players.enumerated() {
            var w = [Double](repeating: 0, count: dimension)
            for i in block { w[i] = u[i] }
            var d = seeded(x, w)
            for i in 0..<dimension { out[i] += hessianEntry(&d, p, i) }
        }
    }

    public func jacobian(at x: [Double], step: Int, into out: inout [Double]) {
        let n = dimension
        var e = [Double](repeating: 0, count: n)
        for j in 0..<n {
            e[j] = 1
            var d = seeded(x, e)
            for i in 0..<n { out[i * n + j] = hessianEntry(&d, owner[i], i) }
            e[j] = 0
        }
    }
}
