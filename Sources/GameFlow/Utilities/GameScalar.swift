import Foundation

/// The numbers a utility is written over: `Double` to evaluate it, `Dual` (nested) to
/// differentiate it exactly in forward mode. A utility written once as a generic function of
/// `T: GameScalar` gives the game's v, v′u, v′ᵀu and v′ exactly (`UtilityGame`).
///
/// Not swift-numerics' `Real`: that protocol refines `FloatingPoint` (ulp, rounding, bit
/// patterns), which a dual number cannot honestly implement; this protocol is the smooth
/// arithmetic a utility needs, plus the kinks (`abs`, `min`, `max`) with their one-sided
/// derivatives fixed (see each).
public protocol GameScalar: Sendable {
    /// The constant `value`.
    init(_ value: Double)
    /// The primal value (for comparisons at kinks).
    var primal: Double { get }
    /// a + b.
    static func + (a: Self, b: Self) -> Self
    /// a − b.
    static func - (a: Self, b: Self) -> Self
    /// a·b.
    static func * (a: Self, b: Self) -> Self
    /// a/b.
    static func / (a: Self, b: Self) -> Self
    /// −a.
    static prefix func - (a: Self) -> Self
    /// eˣ.
    static func exp(_ x: Self) -> Self
    /// The natural logarithm.
    static func log(_ x: Self) -> Self
    /// √x.
    static func sqrt(_ x: Self) -> Self
    /// sin x.
    static func sin(_ x: Self) -> Self
    /// cos x.
    static func cos(_ x: Self) -> Self
    /// tanh x.
    static func tanh(_ x: Self) -> Self
    /// log(1 + x), accurate near 0.
    static func log1p(_ x: Self) -> Self
    /// xⁿ for a constant integer exponent (exact at x = 0, any sign of x).
    static func power(_ x: Self, _ n: Int) -> Self
}

extension GameScalar {
    /// 1/(1 + e^{−x}), without overflow.
    public static func sigmoid(_ x: Self) -> Self {
        if x.primal >= 0 { return Self(1) / (Self(1) + exp(-x)) }
        let e = exp(x)
        return e / (Self(1) + e)
    }

    /// log(1 + eˣ), without overflow: max(x, 0) + log1p(e^{−|x|}).
    public static func softplus(_ x: Self) -> Self {
        x.primal >= 0 ? x + log1p(exp(-x)) : log1p(exp(x))
    }

    /// |x|; at x = 0 the derivative taken is +1 (the right one).
    public static func abs(_ x: Self) -> Self { x.primal < 0 ? -x : x }

    /// min(a, b); at a tie the derivative taken is a's.
    public static func min(_ a: Self, _ b: Self) -> Self { b.primal < a.primal ? b : a }

    /// max(a, b); at a tie the derivative taken is a's.
    public static func max(_ a: Self, _ b: Self) -> Self { b.primal > a.primal ? b : a }

    /// xʸ = exp(y·log x) for x > 0 (NaN for x < 0, as `Foundation.pow` with a non-integer y).
    public static func pow(_ x: Self, _ y: Self) -> Self { exp(y * log(x)) }
}

extension Double: GameScalar {
    public var primal: Double { self }
    /// eˣ.
    public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    /// The natural logarithm.
    public static func log(_ x: Double) -> Double { Foundation.log(x) }
    /// √x.
    public static func sqrt(_ x: Double) -> Double { x.squareRoot() }
    /// sin x.
    public static func sin(_ x: Double) -> Double { Foundation.sin(x) }
    /// cos x.
    public static func cos(_ x: Double) -> Double { Foundation.cos(x) }
    /// tanh x.
    public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    /// log(1 + x).
    public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    public static func power(_ x: Double, _ n: Int) -> Double { Foundation.pow(x, Double(n)) }
}

/// A dual number a + b·ε with ε² = 0 over any `GameScalar`: evaluating f at x + ε·u gives
/// f(x) + ε·f′(x)·u exactly (forward mode). Nested, Dual<Dual<Double>> carries second
/// derivatives: the ε₁ε₂ part of f((x + ε₂w) + ε₁u) is uᵀ∇²f(x)w.
public struct Dual<S: GameScalar>: GameScalar {
    /// The value part a.
    public var value: S
    /// The derivative part b.
    public var tangent: S

    /// a + b·ε.
    public init(_ value: S, _ tangent: S) {
        self.value = value
        self.tangent = tangent
    }

    /// A constant (zero derivative).
    public init(_ value: Double) { self.init(S(value), S(0)) }

    public var primal: Double { value.primal }

    /// (a + b, ȧ + ḃ).
    public static func + (a: Dual, b: Dual) -> Dual { Dual(a.value + b.value, a.tangent + b.tangent) }
    /// (a − b, ȧ − ḃ).
    public static func - (a: Dual, b: Dual) -> Dual { Dual(a.value - b.value, a.tangent - b.tangent) }
    /// (ab, ȧb + aḃ).
    public static func * (a: Dual, b: Dual) -> Dual { Dual(a.value * b.value, a.tangent * b.value + a.value * b.tangent) }
    /// (a/b, (ȧ − (a/b)ḃ)/b).
    public static func / (a: Dual, b: Dual) -> Dual {
        let q = a.value / b.value
        return Dual(q, (a.tangent - q * b.tangent) / b.value)
    }
    /// (−a, −ȧ).
    public static prefix func - (a: Dual) -> Dual { Dual(-a.value, -a.tangent) }
    /// (eˣ, eˣẋ).
    public static func exp(_ x: Dual) -> Dual { let e = S.exp(x.value); return Dual(e, e * x.tangent) }
    /// (log x, ẋ/x).
    public static func log(_ x: Dual) -> Dual { Dual(S.log(x.value), x.tangent / x.value) }
    /// (√x, ẋ/(2√x)).
    public static func sqrt(_ x: Dual) -> Dual { let r = S.sqrt(x.value); return Dual(r, x.tangent / (S(2) * r)) }
    /// (sin x, cos x·ẋ).
    public static func sin(_ x: Dual) -> Dual { Dual(S.sin(x.value), S.cos(x.value) * x.tangent) }
    /// (cos x, −sin x·ẋ).
    public static func cos(_ x: Dual) -> Dual { Dual(S.cos(x.value), -(S.sin(x.value) * x.tangent)) }
    /// (tanh x, (1 − tanh²x)ẋ).
    public static func tanh(_ x: Dual) -> Dual { let t = S.tanh(x.value); return Dual(t, (S(1) - t * t) * x.tangent) }
    /// (log(1 + x), ẋ/(1 + x)).
    public static func log1p(_ x: Dual) -> Dual { Dual(S.log1p(x.value), x.tangent / (S(1) + x.value)) }
    public static func power(_ x: Dual, _ n: Int) -> Dual {
        if n == 0 { return Dual(1) }
        return Dual(S.power(x.value, n), S(Double(n)) * S.power(x.value, n - 1) * x.tangent)
    }
}
