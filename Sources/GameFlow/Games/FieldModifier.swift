/// A game made from another by changing its field (time scales, a penalty, consensus' or a
/// scheme's modified field) while keeping its players, equilibria and the rest: the members
/// below forward to `base` unless the modifier says otherwise.
public protocol FieldModifier: Game {
    /// The game modified.
    associatedtype Base: Game
    /// The game whose field is modified.
    var base: Base { get }
}

extension FieldModifier {
    public var name: String { base.name }
    public var dimension: Int { base.dimension }
    public var players: [Range<Int>] { base.players }
    public var equilibrium: [Double]? { base.equilibrium }
    public var hasExactDerivatives: Bool { base.hasExactDerivatives }
    public var discriminatorPlayer: Int? { base.discriminatorPlayer }
    public func distanceToEquilibria(from x: [Double]) -> Double? { base.distanceToEquilibria(from: x) }
    public var equilibriumSetDimension: Int? { base.equilibriumSetDimension }
}

/// A stochastic game seen at one fixed minibatch: every evaluation uses step index `step`
/// (e.g. `NetworkGAN.evaluationStep`, the batch a trained GAN's metrics and spectra use).
public struct FixedBatchGame<Base: Game>: FieldModifier {
    public let base: Base
    /// The step index every evaluation passes to `base`.
    public let step: Int

    /// `base` seen at the batch of `step`.
    public init(_ base: Base, step: Int) {
        self.base = base
        self.step = step
    }

    public func evaluate(at x: [Double], step _: Int, into v: inout [Double]) { base.evaluate(at: x, step: step, into: &v) }
    public func evaluate(at x: [Double], step _: Int, player: Int, into v: inout [Double]) {
        base.evaluate(at: x, step: step, player: player, into: &v)
    }
    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step _: Int, into out: inout [Double]) {
        base.jacobianVectorProduct(at: x, u, step: step, into: &out)
    }
    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step _: Int, into out: inout [Double]) {
        base.transposeJacobianVectorProduct(at: x, u, step: step, into: &out)
    }
    public func jacobian(at x: [Double], step _: Int, into out: inout [Double]) { base.jacobian(at: x, step: step, into: &out) }
}
