import Foundation

/// Per-player time scales (two time-scale updates, TTUR): player i's block of the field is
/// multiplied by sᵢ > 0, so training integrates
///
///     dx/dt = S·v(x),   S = diag(sᵢ on player i's block),
///
/// and every scheme with step h gives player i the step h·sᵢ. The zeros of S·v are those of v
/// (S is invertible); the Jacobian there is S·v′, whose eigenvalues decide local convergence
/// (Lemma 4 of "The Numerics of GANs" applied to the scaled field). On f = φθ, explicit Euler's
/// step map has spectral radius √(1 + h²s₁s₂) and AltGA's iterates stay bounded iff h²s₁s₂ < 4.
///
/// Under RMSProp/Adam the scales are not put into the field (the optimizer's per-coordinate
/// normalisation would cancel them) but multiply the preconditioned update: `Preconditioned`'s
/// `stepScale`. Reference: Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge
/// to a Local Nash Equilibrium" (NeurIPS 2017).
public struct StepScale: Sendable, Equatable {
    /// One factor per player, in the game's player order.
    public let factors: [Double]

    /// One factor sᵢ > 0 per player, in the game's player order.
    /// - Throws: `GameFlowError.invalidInput` unless every factor is finite and > 0.
    public init(_ factors: [Double]) throws {
        guard !factors.isEmpty else { throw GameFlowError.invalidInput("--step-scale needs one factor per player") }
        for (i, s) in factors.enumerated() where !(s.isFinite && s > 0) {
            throw GameFlowError.invalidInput("--step-scale: factor \(i + 1) must be a finite number > 0 (got \(s))")
        }
        self.factors = factors
    }

    /// Whether every factor is 1 (the unscaled field).
    public var isIdentity: Bool { factors.allSatisfy { $0 == 1 } }

    /// The factors spread over the coordinates of a game with these player blocks.
    /// - Throws: when the number of factors is not the number of players.
    public func perCoordinate(_ players: [Range<Int>]) throws -> [Double] {
        guard factors.count == players.count else {
            throw GameFlowError.invalidInput("--step-scale has \(factors.count) factor\(factors.count == 1 ? "" : "s"), "
                                             + "the game has \(players.count) players")
        }
        var s = [Double](repeating: 1, count: players.last?.upperBound ?? 0)
        for (p, block) in players.enumerated() { for i in block { s[i] = factors[p] } }
        return s
    }
}

/// The game whose field is S·v (see `StepScale`): a field modifier usable under every scheme,
/// the stability analysis and the flows. Derivatives stay exact when the base game's are:
/// (S·v)′u = S·(v′u), (S·v)′ᵀu = v′ᵀ(S·u), (S·v)′ = S·v′. Work per product: the base game's
/// plus n multiplications.
public struct TimeScaledGame<Base: Game>: FieldModifier {
    /// The unscaled game.
    public let base: Base
    /// The factors.
    public let scale: StepScale
    let coordinates: [Double]
    /// The base's players, kept (a game may build `players` on every call).
    let blocks: [Range<Int>]
    private let scratch = Scratch()

    /// The game with field S·v.
    /// - Throws: when the number of factors is not the number of players.
    public init(_ base: Base, scale: StepScale) throws {
        self.base = base
        self.scale = scale
        self.blocks = base.players
        self.coordinates = try scale.perCoordinate(blocks)
    }


    @inline(__always)
    func scaleInPlace(_ v: inout [Double], _ range: Range<Int>) {
        coordinates.withUnsafeBufferPointer { s in
            v.withUnsafeMutableBufferPointer { w in for i in range { w[i] *= s[i] } }
        }
    }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        base.evaluate(at: x, step: step, into: &v)
        scaleInPlace(&v, 0..<dimension)
    }

    public func evaluate(at x: [Double], step: Int, player: Int, into v: inout [Double]) {
        base.evaluate(at: x, step: step, player: player, into: &v)
        scaleInPlace(&v, blocks[player])
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        base.jacobianVectorProduct(at: x, u, step: step, into: &out)
        scaleInPlace(&out, 0..<dimension)
    }

    /// v′ᵀ(S·u): S·u goes into a pooled buffer (`Scratch`).
    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        var su = scratch.take(dimension)
        for i in 0..<dimension { su[i] = coordinates[i] * u[i] }
        base.transposeJacobianVectorProduct(at: x, su, step: step, into: &out)
        scratch.give(&su)
    }

    public func jacobian(at x: [Double], step: Int, into out: inout [Double]) {
        base.jacobian(at: x, step: step, into: &out)
        let n = dimension
        for i in 0..<n { let s = coordinates[i]; for j in 0..<n { out[i * n + j] *= s } }
    }
}

extension Game {
    /// This game with its field multiplied by `scale` (itself, type-erased, when every factor is 1).
    public func timeScaled(_ scale: StepScale?) throws -> any Game {
        guard let s = scale else { return self }
        _ = try s.perCoordinate(players)
        return s.isIdentity ? self : try TimeScaledGame(self, scale: s)
    }
}
