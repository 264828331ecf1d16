/// The result of one attempted step.
public enum StepResult: Sendable, Equatable {
    case success
    /// The step could not be taken; the message says why (and carries GSL's reason where one exists).
    case failure(String)
}

/// What a scheme sees of the game during a step: every evaluation goes through here and is
/// counted in `stats`, so work counts are correct by construction.
public struct StepContext<G: Game> {
    public let game: G
    /// The integrator's step index (stochastic games key their minibatch on it).
    public var step: Int
    public var stats = Stats()

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
}

/// Work buffers of length n, made once per run.
public struct Buffers: Sendable {
    public var a: [Double]
    public var b: [Double]
    public var c: [Double]
    public var d: [Double]
    public var e: [Double]

    public init(dimension n: Int) {
        a = [Double](repeating: 0, count: n)
        b = a; c = a; d = a; e = a
    }
}
