/// LA ("look-ahead"): each player steps along its own gradient taken where the other players
/// will be after one gradient step of size α, to first order:
///
///     w_i(x) = v_i(x) + α·Σ_{j≠i} ∂_j v_i(x)·v_j(x),   i.e. w = v + α·J_off·v,
///     x_{k+1} = x_k + h·w(x_k),
///
/// J_off = v′ with its diagonal player blocks set to zero (Letcher et al.'s H_o in GameFlow's
/// sign: their losses' gradient ξ = −v, H_o = −J_off, LA descends ξ − αH_oξ). Work per step: one
/// evaluation of v and one JVP per player (along v restricted to that player's block), exact
/// from the game. Order 1.
///
/// On a two-player bilinear zero-sum game (J = J_off antisymmetric) w = v + αJv = v − αJᵀv: LA is
/// consensus with γ = α, and an eigenvalue iσ of J becomes iσ − ασ². With `shaping` this is LOLA
/// or SOS (their formulas and cost in `LOLA.swift`); LOLA on such games doubles the correction
/// (consensus with γ = 2α).
///
/// Reference: Letcher, Foerster, Balduzzi, Rocktäschel, Whiteson, "Stable Opponent Shaping in
/// Differentiable Games" (ICLR 2019), §3 (LA); Zhang & Lesser, "Multi-agent learning with policy
/// prediction" (AAAI 2010).
public struct LookAheadGradient: Scheme {
    /// Whether and how the opponents' shaping term S = diag(J_offᵀ∇u) is added (`LOLA.swift`).
    public enum Shaping: Sendable, Equatable {
        /// LA: no shaping term.
        case none
        /// LOLA: w + α·S.
        case lola
        /// SOS: w + p·α·S with p = min(p₁, p₂) chosen each step from a, b ∈ (0, 1).
        case sos(a: Double, b: Double)
    }

    /// α ≥ 0, the opponents' look-ahead step.
    public let alpha: Double
    /// LA, LOLA or SOS.
    public let shaping: Shaping

    /// LA (or, with `shaping`, LOLA or SOS) with look-ahead α.
    /// - Parameters:
    ///   - alpha: α ≥ 0 (0 is SimGA).
    ///   - shaping: add the shaping term diag(J_offᵀ∇u), LOLA's or SOS's way (the game must give
    ///     `UtilityGradients`).
    /// - Throws: for α < 0 or not finite, or SOS's a, b outside (0, 1).
    public init(alpha: Double, shaping: Shaping = .none) throws {
        guard alpha.isFinite, alpha >= 0 else { throw GameFlowError.invalidInput("--alpha must be a finite number ≥ 0 (got \(alpha))") }
        if case let .sos(a, b) = shaping {
            guard a > 0, a < 1 else { throw GameFlowError.invalidInput("--sos-a must be a number in (0, 1) (got \(a))") }
            guard b > 0, b < 1 else { throw GameFlowError.invalidInput("--sos-b must be a number in (0, 1) (got \(b))") }
        }
        self.alpha = alpha
        self.shaping = shaping
    }

    public var name: String {
        switch shaping {
        case .none: return "la"
        case .lola: return "lola"
        case .sos: return "sos"
        }
    }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 1 }

    /// Work buffers, the players' blocks (read once: a game may build them on every call) and,
    /// for LOLA, the game's utility gradients.
    public struct Cache {
        var buffers: Buffers
        let players: [Range<Int>]
        let utilities: (any UtilityGradients)?
    }

    public func makeCache<G: Game>(for game: G) throws -> Cache {
        let utilities = game as? any UtilityGradients
        if shaping != .none && utilities == nil {
            throw GameFlowError.invalidInput("\(name) needs each player's utility gradient over every player's parameters; \(game.name) does not give it (bilinear games, the Dirac-GAN, GANs and formula games with utilities do)")
        }
        return Cache(buffers: Buffers(dimension: game.dimension), players: game.players, utilities: shaping == .none ? nil : utilities)
    }

    /// `a`: v, `b`/`c`: work (v on one block, its JVP; ∇u_i, its transpose JVP), `e`: the α-terms.
    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.buffers.a)
        let n = x.count
        for i in 0..<n { cache.buffers.e[i] = 0 }
        guard alpha != 0 else {
            for i in 0..<n { x[i] += h * cache.buffers.a[i] }
            return .success
        }
        addOffDiagonalProduct(cache.buffers.a, players: cache.players, scale: 1, block: &cache.buffers.b, product: &cache.buffers.c,
                              into: &cache.buffers.e) { context.jacobianVectorProduct(x, $0, into: &$1) }
        if case let .sos(a, b) = shaping {
            // a ← w = v + α·J_off·v (−ξ₀ in Letcher et al.'s sign); e ← S alone, then p.
            var vv = 0.0, ww = 0.0, sw = 0.0
            for i in 0..<n {
                vv += cache.buffers.a[i] * cache.buffers.a[i]
                cache.buffers.a[i] += alpha * cache.buffers.e[i]
                ww += cache.buffers.a[i] * cache.buffers.a[i]
                cache.buffers.e[i] = 0
            }
            addShaping(cache.utilities!, at: x, cache: &cache, context: &context)
            for i in 0..<n { sw += cache.buffers.e[i] * cache.buffers.a[i] }
            let p = LookAheadGradient.sosWeight(shapingAlongLookAhead: alpha * sw, lookAheadNormSquared: ww, fieldNormSquared: vv, a: a, b: b)
            let k = h * p * alpha
            for i in 0..<n { x[i] += h * cache.buffers.a[i] + k * cache.buffers.e[i] }
            return .success
        }
        if let utilities = cache.utilities { addShaping(utilities, at: x, cache: &cache, context: &context) }
        let k = h * alpha
        for i in 0..<n { x[i] += h * cache.buffers.a[i] + k * cache.buffers.e[i] }
        return .success
    }

    /// e += S = diag(J_offᵀ∇u): for player i, (v′ᵀ·z)_i with z = ∇u_i outside block i.
    private func addShaping<G: Game>(_ utilities: any UtilityGradients, at x: [Double], cache: inout Cache, context: inout StepContext<G>) {
        for player in cache.players.indices {
            let range = cache.players[player]
            context.stats.fieldEvaluations += 1   // a utility gradient costs about one v
            utilities.utilityGradient(player: player, at: x, step: context.step, into: &cache.buffers.b)
            for i in range { cache.buffers.b[i] = 0 }
            context.transposeJacobianVectorProduct(x, cache.buffers.b, into: &cache.buffers.c)
            for i in range { cache.buffers.e[i] += cache.buffers.c[i] }
        }
    }

    /// SOS's p = min(p₁, p₂) (Letcher et al. 2019, Algorithm 1, in GameFlow's sign): with
    /// d = α⟨S, w⟩ (their ⟨−αχ, ξ₀⟩), p₁ = 1 if d ≥ 0, else min(1, −a‖w‖²/d), so that the step keeps
    /// ⟨w + pαS, w⟩ ≥ (1 − a)‖w‖²; p₂ = ‖v‖² if ‖v‖ < b, else 1, so that p → 0 at fixed points
    /// (SOS keeps them, LOLA does not).
    public static func sosWeight(shapingAlongLookAhead d: Double, lookAheadNormSquared ww: Double, fieldNormSquared vv: Double,
                                 a: Double, b: Double) -> Double {
        let p1 = d >= 0 ? 1 : min(1, -a * ww / d)
        let p2 = vv.squareRoot() < b ? vv : 1
        return min(p1, p2)
    }
}

/// out += s·J_off·u, J_off = v′ without its diagonal player blocks: for each player k, the
/// product v′·(u on block k, 0 elsewhere) (`jvp`) outside block k — one JVP per player.
/// `block` and `product` are work buffers of length n.
@inline(__always)
func addOffDiagonalProduct(_ u: UnsafePointer<Double>, players: [Range<Int>], scale s: Double, block: inout [Double],
                           product: inout [Double], into out: UnsafeMutablePointer<Double>, jvp: (_ u: [Double], _ out: inout [Double]) -> Void) {
    let n = block.count
    for range in players {
        for i in 0..<n { block[i] = 0 }
        for i in range { block[i] = u[i] }
        jvp(block, &product)
        for i in 0..<range.lowerBound { out[i] += s * product[i] }
        for i in range.upperBound..<n { out[i] += s * product[i] }
    }
}

/// `addOffDiagonalProduct` on arrays.
@inline(__always)
func addOffDiagonalProduct(_ u: [Double], players: [Range<Int>], scale s: Double, block: inout [Double], product: inout [Double],
                           into out: inout [Double], jvp: (_ u: [Double], _ out: inout [Double]) -> Void) {
    u.withUnsafeBufferPointer { us in
        out.withUnsafeMutableBufferPointer { os in
            addOffDiagonalProduct(us.baseAddress!, players: players, scale: s, block: &block, product: &product, into: os.baseAddress!, jvp: jvp)
        }
    }
}
