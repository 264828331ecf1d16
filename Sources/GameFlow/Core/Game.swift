/// A differentiable game seen as what training integrates: its gradient vector field.
///
/// **Sign convention (the only place it is stated; see README "Conventions").** The state
/// x = (φ, θ) stacks the players' parameters, in the blocks given by `players`. Players
/// *maximise* their utilities f(φ, θ) and g(φ, θ); the game's vector field is
///
///     v(x) = (∇_φ f(φ, θ), ∇_θ g(φ, θ)),
///
/// and training is the ODE dx/dt = v(x) (Mescheder, Nowozin, Geiger, "The Numerics of GANs",
/// 2017, eq. 5). A zero-sum game has g = −f. A GAN written with losses ℓ_D, ℓ_G has
/// f = −ℓ_D and g = −ℓ_G. `v′(x)` is the (non-symmetric) Jacobian ∂vᵢ/∂xⱼ.
///
/// Conformers supply v in place; the derivative requirements have finite-difference defaults
/// (set `hasExactDerivatives` to `false` then), and every built-in game overrides them exactly.
/// `step` is the integrator's step index: a stochastic field (minibatches) must be a pure
/// function of (x, step), so that all stages of one step see the same data. Deterministic
/// games ignore it.
public protocol Game: Sendable {
    /// A short name for reports ("bilinear", "dirac", …).
    var name: String { get }
    /// n, the length of x.
    var dimension: Int { get }
    /// The players' index ranges in x, in order; they partition 0..<dimension.
    var players: [Range<Int>] { get }
    /// A known equilibrium (v = 0 there), if any.
    var equilibrium: [Double]? { get }
    /// Whether the derivative methods below are exact (not finite differences).
    var hasExactDerivatives: Bool { get }
    /// The discriminator's index in `players`, for the methods that treat it apart (the
    /// Nagarajan–Kolter penalty, consensus on the discriminator only). Default: player 0 (φ,
    /// the first block) in a two-player game, nil otherwise; the Dirac-GAN says ψ (player 1),
    /// the MLP GAN follows its layout.
    var discriminatorPlayer: Int? { get }
    /// The distance from x to the set of equilibria: to `equilibrium` when it is the only one
    /// (the default), to the whole set where there is a continuum (linear games with a
    /// singular v′). nil when unknown.
    func distanceToEquilibria(from x: [Double]) -> Double?
    /// The dimension of the set of equilibria the distance is to: 0 for an isolated equilibrium
    /// (the default when `equilibrium` is known), nil when unknown.
    var equilibriumSetDimension: Int? { get }

    /// v(x) into `v` (length n).
    func evaluate(at x: [Double], step: Int, into v: inout [Double])
    /// Player `player`'s block of v(x) (the entries `players[player]`) into those entries of
    /// `v`; the other entries are unspecified. For schemes that use one block at a time
    /// (AltGA): a game whose players' gradients share work may compute only the block asked
    /// for, with the same values as `evaluate`. Default: all of v.
    func evaluate(at x: [Double], step: Int, player: Int, into v: inout [Double])
    /// v′(x)·u into `out`.
    func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double])
    /// v′(x)ᵀ·u into `out`.
    func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double])
    /// The dense Jacobian v′(x), row-major (entry (i, j) = ∂vᵢ/∂xⱼ at index i·n + j), into `out` (length n²).
    func jacobian(at x: [Double], step: Int, into out: inout [Double])
}

extension Game {
    /// The coordinates' names for figures and reports (a game file's variable names), nil for
    /// games whose coordinates are unnamed.
    public var coordinateNames: [String]? { (self as? any NamedCoordinates)?.names }
}

/// A game whose coordinates have names (a formula game file's variables).
public protocol NamedCoordinates {
    /// One name per coordinate of x.
    var names: [String] { get }
}

extension Game {
    public func evaluate(at x: [Double], step: Int, player: Int, into v: inout [Double]) {
        evaluate(at: x, step: step, into: &v)
    }

    public var equilibrium: [Double]? { nil }
    public var hasExactDerivatives: Bool { false }
    public var name: String { "custom" }
    public var discriminatorPlayer: Int? { players.count == 2 ? 0 : nil }
    public func distanceToEquilibria(from x: [Double]) -> Double? { equilibrium.map { distance(x, $0) } }
    public var equilibriumSetDimension: Int? { equilibrium == nil ? nil : 0 }

    /// ½·d², d the distance to the equilibria (`distanceToEquilibria`), or to 0 when they are
    /// unknown: the `energy` column of every trajectory (runs and flows alike).
    public func energy(at x: [Double]) -> Double {
        let d = distanceToEquilibria(from: x) ?? norm2(x)
        return 0.5 * d * d
    }

    /// Central finite difference of v along u: (v(x + εu) − v(x − εu)) / 2ε, with ε scaled to x and u.
    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        finiteDifferenceJVP(at: x, u, step: step, into: &out)
    }

    /// From the dense Jacobian (n JVPs by default): v′ᵀu.
    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        let j = jacobianMatrix(at: x, step: step)
        j.gemvArrays(transpose: true, u, into: &out)
    }

    /// Column by column, from n Jacobian-vector products.
    public func jacobian(at x: [Double], step: Int, into out: inout [Double]) {
        denseFromProducts(dimension, into: &out) { e, col in jacobianVectorProduct(at: x, e, step: step, into: &col) }
    }

    /// Central finite-difference JVP; available to every game (tests compare exact derivatives with it).
    public func finiteDifferenceJVP(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        let n = dimension
        let uNorm = maxAbs(u)
        guard uNorm > 0 else { for i in 0..<n { out[i] = 0 }; return }
        // ε ≈ ∛(machine ε) relative to the scale of x, per unit of u.
        let eps = 6.0554544523933395e-06 * max(1, maxAbs(x)) / uNorm
        var xp = x, xm = x, vp = [Double](repeating: 0, count: n), vm = vp
        axpy(eps, u, &xp)
        axpy(-eps, u, &xm)
        evaluate(at: xp, step: step, into: &vp)
        evaluate(at: xm, step: step, into: &vm)
        for i in 0..<n { out[i] = (vp[i] - vm[i]) / (2 * eps) }
    }

    /// The step index that sub-step `subStep` ≥ 1 of step `step` passes to the game (AltGA's
    /// `--substeps`): step + subStep·2⁴⁰, so that a stochastic game draws a fresh minibatch per
    /// sub-step, a pure function of (seed, step, sub-step), distinct from every step's own for
    /// runs below 2⁴⁰ steps.
    public static func subStepIndex(_ step: Int, _ subStep: Int) -> Int { step &+ subStep << 40 }

    /// Convenience: v(x) as a new array.
    public func vectorField(at x: [Double], step: Int = 0) -> [Double] {
        var v = [Double](repeating: 0, count: dimension)
        evaluate(at: x, step: step, into: &v)
        return v
    }

    /// Convenience: the dense Jacobian as a `Matrix`.
    public func jacobianMatrix(at x: [Double], step: Int = 0) -> Matrix {
        var j = Matrix(zeros: dimension, dimension)
        jacobian(at: x, step: step, into: &j.storage)
        return j
    }

    /// Checks that `players` partitions 0..<dimension; throws a clear error otherwise.
    public func validatePlayers() throws {
        var next = 0
        for (i, r) in players.enumerated() {
            guard r.lowerBound == next, !r.isEmpty else {
                throw GameFlowError.invalidInput("player \(i) has block \(r), expected a non-empty block starting at \(next)")
            }
            next = r.upperBound
        }
        guard next == dimension else {
            throw GameFlowError.invalidInput("player blocks cover \(next) entries, the game has dimension \(dimension)")
        }
    }
}

/// A dense row-major n×n matrix assembled column by column from products with the unit vectors.
func denseFromProducts(_ n: Int, into out: inout [Double], _ product: ([Double], inout [Double]) -> Void) {
    var e = [Double](repeating: 0, count: n), col = [Double](repeating: 0, count: n)
    for k in 0..<n {
        e[k] = 1
        product(e, &col)
        for i in 0..<n { out[i * n + k] = col[i] }
        e[k] = 0
    }
}

/// Splits 0..<(sizes.sum) into consecutive blocks of the given sizes.
public func playerBlocks(sizes: [Int]) -> [Range<Int>] {
    var start = 0
    return sizes.map { s in defer { start += s }; return start..<(start + s) }
}

/// A game given by a plain Swift closure for v (and optionally its dense Jacobian).
/// Derivatives not given are finite differences; `hasExactDerivatives` is true only when
/// a Jacobian closure is supplied.
public struct ClosureGame: Game {
    public let name: String
    public let dimension: Int
    public let players: [Range<Int>]
    public let equilibrium: [Double]?
    private let field: @Sendable ([Double], inout [Double]) -> Void
    private let jacobianClosure: (@Sendable ([Double], inout [Double]) -> Void)?

    /// A game from a closure for v (and optionally one for the dense Jacobian).
    /// - Parameters:
    ///   - name: a short name for reports.
    ///   - dimension: n, the length of x.
    ///   - playerSizes: block sizes (default: one player owning all of x).
    ///   - equilibrium: a known zero of v, if any.
    ///   - field: writes v(x) into its second argument.
    ///   - jacobian: writes the row-major dense v′(x) into its second argument (length n²).
    public init(name: String = "custom", dimension: Int, playerSizes: [Int]? = nil,
                equilibrium: [Double]? = nil,
                field: @escaping @Sendable ([Double], inout [Double]) -> Void,
                jacobian: (@Sendable ([Double], inout [Double]) -> Void)? = nil) {
        self.name = name
        self.dimension = dimension
        self.players = playerBlocks(sizes: playerSizes ?? [dimension])
        self.equilibrium = equilibrium
        self.field = field
        self.jacobianClosure = jacobian
    }

    public var hasExactDerivatives: Bool { jacobianClosure != nil }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) { field(x, &v) }

    public func jacobian(at x: [Double], step: Int, into out: inout [Double]) {
        if let j = jacobianClosure { j(x, &out); return }
        denseFromProducts(dimension, into: &out) { e, col in finiteDifferenceJVP(at: x, e, step: step, into: &col) }
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        guard jacobianClosure != nil else { finiteDifferenceJVP(at: x, u, step: step, into: &out); return }
        jacobianMatrix(at: x, step: step).gemvArrays(transpose: false, u, into: &out)
    }
}
