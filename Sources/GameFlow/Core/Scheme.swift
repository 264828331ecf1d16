import Numerics

/// The result of one attempted step.
public enum StepResult: Sendable, Equatable {
    /// The step was taken.
    case success
    /// The step could not be taken; the message says why (and carries GSL's reason where one exists).
    case failure(String)
}

/// What a scheme sees of the game during a step: every evaluation goes through here and is
/// counted in `stats`, so work counts are correct by construction.
public struct StepContext<G: Game> {
    /// The game (read through the counting methods below).
    public let game: G
    /// The integrator's step index (stochastic games key their minibatch on it).
    public var step: Int
    /// This step's work so far.
    public var stats = Stats()

    /// A context for step `step` of `game`.
    public init(game: G, step: Int = 0) {
        self.game = game
        self.step = step
    }

    /// v(x) into `v`.
    @inlinable
    public mutating func evaluate(_ x: [Double], into v: inout [Double]) {
        stats.fieldEvaluations += 1
        game.evaluate(at: x, step: step, into: &v)
    }

    /// Player `player`'s block of v(x) into those entries of `v` (counted as an evaluation).
    @inlinable
    public mutating func evaluate(_ x: [Double], player: Int, into v: inout [Double]) {
        stats.fieldEvaluations += 1
        game.evaluate(at: x, step: step, player: player, into: &v)
    }

    /// v′(x)·u into `out`.
    @inlinable
    public mutating func jacobianVectorProduct(_ x: [Double], _ u: [Double], into out: inout [Double]) {
        stats.jacobianVectorProducts += 1
        game.jacobianVectorProduct(at: x, u, step: step, into: &out)
    }

    /// v′(x)ᵀ·u into `out`.
    @inlinable
    public mutating func transposeJacobianVectorProduct(_ x: [Double], _ u: [Double], into out: inout [Double]) {
        stats.transposeJacobianVectorProducts += 1
        game.transposeJacobianVectorProduct(at: x, u, step: step, into: &out)
    }
}

/// A training method, seen as a one-step map x ↦ Φ_h(x) for dx/dt = v(x).
///
/// A scheme holds only its own knobs (γ for consensus, tolerances for implicit Euler); the step
/// size h belongs to the run. Its `Cache` holds every buffer a step needs and is made once per
/// run, so `step` allocates nothing.
public protocol Scheme: Sendable {
    /// Every buffer a step needs, made once per run by `makeCache`.
    associatedtype Cache

    /// The command-line name ("simga", "rk4", …).
    var name: String { get }
    /// Classical order of accuracy on smooth ODEs.
    var order: Int { get }
    /// Nominal evaluations of v per step (the measured counts are in `Stats`).
    var evaluationsPerStep: Int { get }

    /// Allocates the per-run buffers (and, for implicit schemes, the solver) for `game`.
    func makeCache<G: Game>(for game: G) throws -> Cache

    /// Advances `x` by one step of size `h`, in place. On failure `x` may hold garbage; the
    /// integrator restores the previous state.
    func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Cache, context: inout StepContext<G>) -> StepResult

    /// R(z) such that one step on the scalar test equation x′ = λx maps x to R(hλ)·x, when the
    /// scheme has one (Euler, Heun, RK4, extragradient, implicit Euler). Default: nil.
    func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>?

    /// The Jacobian of the one-step map at a fixed point x̄ of a field whose Jacobian there is
    /// `jacobian` (= J): the step map of the linearised field v(x) = J·(x − x̄) (chain rule; for
    /// consensus the v″ terms vanish because v(x̄) = 0). Default: one step from each basis
    /// vector on v(x) = J·x, exact for every one-step scheme. Its spectral radius < 1 ⇔ local
    /// convergence (Proposition 3 of "The Numerics of GANs").
    func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix

    /// What the cache carries from one step to the next besides x (optimizer moments, the
    /// previous v of a multistep method), flattened — for checkpoints. Restored into a fresh
    /// cache with `restoreCarried`, a run continues bit for bit. Default: nothing.
    func carried(_ cache: Cache) -> [Double]

    /// The order q GSL's step-size controller scales by (h ∝ (tol/err)^(1/q) on decrease) for
    /// schemes with an embedded error estimate (`trialStep`); nil for the others, which then run
    /// only at fixed step sizes (`StepSizeControl`). Default: nil.
    func errorOrder(_ cache: Cache) -> Int?

    /// One trial step of size `h` under the integrator's error control: as `step`, and the
    /// estimate of its local error per component in `error`. `retry` says the previous trial
    /// from this same x was rejected (its `rejectTrial` was called): a scheme may reuse what it
    /// computed at x (v(x) for the embedded pairs). Only called when `errorOrder` is not nil.
    func trialStep<G: Game>(_ x: inout [Double], h: Double, error: inout [Double], retry: Bool,
                            cache: inout Cache, context: inout StepContext<G>) -> StepResult

    /// Undoes what the last `trialStep` changed in the cache (an optimizer's moments, an
    /// average): the controller rejected it, and the integrator restores x. Default: nothing.
    func rejectTrial(_ cache: inout Cache)

    /// Puts `values` (from `carried`) back into a fresh cache.
    /// - Throws: `GameFlowError.invalidInput` when they do not fit this scheme and dimension.
    func restoreCarried(_ values: [Double], into cache: inout Cache) throws
}

extension Scheme {
    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? { nil }

    /// Nothing is carried by default.
    public func carried(_ cache: Cache) -> [Double] { [] }

    public func errorOrder(_ cache: Cache) -> Int? { nil }

    /// Schemes without an error estimate are never asked for a trial step (the integrator
    /// refuses error control for them); this answers with that reason if one is.
    public func trialStep<G: Game>(_ x: inout [Double], h: Double, error: inout [Double], retry: Bool,
                                   cache: inout Cache, context: inout StepContext<G>) -> StepResult {
        .failure("\(name) has no error estimate: the step-size control needs an embedded pair (rkf45, rkck, rk8pd)")
    }

    public func rejectTrial(_ cache: inout Cache) {}

    /// Accepts only an empty list by default.
    public func restoreCarried(_ values: [Double], into cache: inout Cache) throws {
        try expectCarried(values, count: 0)
    }

    /// Throws unless `values` has `count` entries (checkpoints from another scheme or game).
    func expectCarried(_ values: [Double], count: Int) throws {
        guard values.count == count else {
            throw GameFlowError.invalidInput("\(name) carries \(count) numbers between steps here; the checkpoint has \(values.count)")
        }
    }

    public func linearizedStepMatrix(jacobian: Matrix, players: [Range<Int>], h: Double) throws -> Matrix {
        let n = jacobian.rows
        let game = try AffineGame(M: jacobian, b: [Double](repeating: 0, count: n), playerSizes: players.map(\.count))
        var cache = try makeCache(for: game)
        var phi = Matrix(zeros: n, n)
        var x = [Double](repeating: 0, count: n)
        for j in 0..<n {
            for i in 0..<n { x[i] = i == j ? 1 : 0 }
            var context = StepContext(game: game)
            if case .failure(let reason) = step(&x, h: h, cache: &cache, context: &context) {
                throw GameFlowError.invalidInput("\(name): step on the linearised field failed: \(reason)")
            }
            for i in 0..<n { phi[i, j] = x[i] }
        }
        return phi
    }
}

/// Work buffers of length n, made once per run.
public struct Buffers: Sendable {
    /// Work buffer of length n.
    public var a: [Double]
    /// Work buffer of length n.
    public var b: [Double]
    /// Work buffer of length n.
    public var c: [Double]
    /// Work buffer of length n.
    public var e: [Double]

    /// Four zero buffers of length n.
    public init(dimension n: Int) {
        a = [Double](repeating: 0, count: n)
        b = a; c = a; e = a
    }
}
