/// A game made from another by changing its field (time scales, a penalty, consensus' or a
/// scheme's modified field) while keeping its players, equilibria and the rest: the members
/// below forward to `base` unless the modifier says otherwise.
public protocol FieldModifier: Game {
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
