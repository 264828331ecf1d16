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
    /// An orthonormal basis of the directions along which the equilibria continue from
    /// `equilibrium` (the affine set x̄ + span(directions)); empty for an isolated equilibrium.
    public let equilibriumDirections: [[Double]]
    /// The coordinates' names (a game file's variables; nil: unnamed).
    public var variableNames: [String]? = nil
    /// Whether the declared set accounts for v′(x̄)'s null space (see `distanceToEquilibria`).
    let setIsKnown: Bool
    let owner: [Int]

    /// A game from its players' utilities.
    /// - Parameters:
    ///   - utilities: the players' utilities.
    ///   - playerSizes: the sizes of the players' blocks of x, in order.
    ///   - name: a short name for reports.
    ///   - equilibrium: a known zero of v, if any.
    ///   - equilibriumDirections: directions along which the equilibria form an affine set
    ///     through `equilibrium` (the Tandem game's line x + y = 1: [[1, −1]]); orthonormalised
    ///     here, and they must be independent.
    public init(_ utilities: U, playerSizes: [Int], name: String = "utilities", equilibrium: [Double]? = nil,
                equilibriumDirections: [[Double]] = []) throws {
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
        guard equilibriumDirections.isEmpty || equilibrium != nil else {
            throw GameFlowError.invalidInput("utility game: equilibrium directions need an equilibrium (a point of the set)")
        }
        var basis: [[Double]] = []
        for (k, d) in equilibriumDirections.enumerated() {
            guard d.count == owner.count, d.allSatisfy(\.isFinite) else {
                throw GameFlowError.invalidInput("utility game: equilibrium direction \(k + 1) must have \(owner.count) finite entries")
            }
            // Gram–Schmidt (twice, for orthogonality to round-off).
            var w = d
            for _ in 0..<2 { for q in basis { let c = dot(q, w); for i in w.indices { w[i] -= c * q[i] } } }
            let size = norm2(w)
            guard size > 1e-10 * max(norm2(d), .leastNormalMagnitude) else {
                throw GameFlowError.invalidInput("utility game: equilibrium direction \(k + 1) depends on the ones before it")
            }
            basis.append(w.map { $0 / size })
        }
        self.equilibriumDirections = basis
        // The set is known when v′(x̄)'s null space is no larger than the declared directions:
        // otherwise the equilibria may continue along directions nobody declared, and a
        // distance to x̄ alone would be wrong (checked once, by the SVD of the exact v′(x̄)).
        var known = true
        if let e = equilibrium, owner.count <= EquilibriumSet.dimensionLimit {
            let n = owner.count
            var j = [Double](repeating: 0, count: n * n)
            Self.jacobian(utilities, owner: owner, at: e, into: &j)
            if j.allSatisfy(\.isFinite), let nullity = EquilibriumSet(dimension: n, bNorm: 0, matrix: { [j] in
                Matrix(rows: n, columns: n, storage: j) }).dimension {
                known = nullity <= basis.count
            } else {
                known = false
            }
        }
        self.setIsKnown = known
    }

    /// The distance to the declared equilibrium set x̄ + span(directions); nil when no
    /// equilibrium is declared, or when v′(x̄) is singular beyond the declared directions (the
    /// equilibria may form a larger set there, so the distance to the declared one is unknown).
    public func distanceToEquilibria(from x: [Double]) -> Double? {
        guard let e = equilibrium, setIsKnown else { return nil }
        var r = zip(x, e).map { $0 - $1 }
        for q in equilibriumDirections { let c = dot(q, r); for i in r.indices { r[i] -= c * q[i] } }
        return norm2(r)
    }

    /// The declared set's dimension (nil when unknown, as for the distance).
    public var equilibriumSetDimension: Int? { equilibrium != nil && setIsKnown ? equilibriumDirections.count : nil }

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
        Self.jacobian(utilities, owner: owner, at: x, into: &out)
    }

    /// The dense v′(x) (also used before `self` exists, by `init`).
    static func jacobian(_ utilities: U, owner: [Int], at x: [Double], into out: inout [Double]) {
        let n = owner.count
        var e = [Double](repeating: 0, count: n)
        for j in 0..<n {
            e[j] = 1
            var d = (0..<n).map { Dual(Dual(x[$0], 0), Dual(e[$0], 0)) }
            for i in 0..<n {
                d[i].value.tangent = 1
                out[i * n + j] = utilities.utility(owner[i], at: d).tangent.tangent
                d[i].value.tangent = 0
            }
            e[j] = 0
        }
    }
}

extension UtilityGame: NamedCoordinates {
    /// The variables' names, or x0, x1, … when the game has none.
    public var names: [String] { variableNames ?? (0..<dimension).map { "x\($0)" } }
}

extension UtilityGame: UtilityGradients {
    /// ∇f_player by forward-mode automatic differentiation (n passes at `Dual<Double>`).
    public func utilityGradient(player: Int, at x: [Double], step: Int, into g: inout [Double]) {
        var d = x.map { Dual<Double>($0, 0) }
        for i in 0..<dimension {
            d[i].tangent = 1
            g[i] = utilities.utility(player, at: d).tangent
            d[i].tangent = 0
        }
    }
}
