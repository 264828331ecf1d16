import Numerics

/// Extragradient (Korpelevich): an Euler look-ahead of its own step η, then a step with the
/// look-ahead's field:
///
///     x̃ = x + η·v(x),  x_{k+1} = x + h·v(x̃)      (η = h unless `--extrapolation-step` is given).
///
/// Order 1 (a two-stage explicit Runge–Kutta method with weights b = (0, 1)); 2 evaluations of v
/// per step. With η = h, R(z) = 1 + z + z², which covers part of the imaginary axis: on a
/// bilinear game it contracts by √(1 − h²σ² + h⁴σ⁴), i.e. converges iff hσ < 1. With its own η,
/// an eigenvalue iσ maps to 1 − hησ² + ihσ, so the factor is √((1 − hησ²)² + h²σ²): it contracts
/// iff hη²σ² − 2η + h < 0, i.e. iff hσ < 1 and η lies between (1 ∓ √(1 − h²σ²))/(hσ²).
///
/// References: Korpelevich, "The extragradient method for finding saddle points and other
/// problems" (1976); Gidel et al., "A Variational Inequality Perspective on Generative
/// Adversarial Networks" (ICLR 2019).
public struct Extragradient: Scheme {
    /// The look-ahead's step η (nil: the step h itself).
    public let extrapolationStep: Double?

    /// Extragradient with its own look-ahead step η (nil: h).
    /// - Throws: unless η is nil or a finite number > 0.
    public init(extrapolationStep: Double? = nil) throws {
        if let e = extrapolationStep, !(e.isFinite && e > 0) {
            throw GameFlowError.invalidInput("--extrapolation-step must be a finite number > 0 (got \(e))")
        }
        self.extrapolationStep = extrapolationStep
    }

    /// Extragradient with η = h.
    public init() { extrapolationStep = nil }

    public var name: String { "extragradient" }
    public var order: Int { 1 }
    public var evaluationsPerStep: Int { 2 }

    /// R(z) = 1 + z + z² when η = h; with a fixed η the one-step map depends on h and η apart
    /// (nil: the analysis uses the step matrix).
    public func stabilityFunction(_ z: Complex<Double>) -> Complex<Double>? {
        extrapolationStep == nil ? 1 + z + z * z : nil
    }

    public func makeCache<G: Game>(for game: G) -> Buffers { Buffers(dimension: game.dimension) }

    public func step<G: Game>(_ x: inout [Double], h: Double, cache: inout Buffers,
                              context: inout StepContext<G>) -> StepResult {
        context.evaluate(x, into: &cache.a)
        linearSum(x, extrapolationStep ?? h, cache.a, into: &cache.b)
        context.evaluate(cache.b, into: &cache.a)
        axpy(h, cache.a, &x)
        return .success
    }
}
