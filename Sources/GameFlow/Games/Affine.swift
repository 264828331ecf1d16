/// An affine field v(x) = M·x + b with given player sizes: the vector field of every quadratic
/// game. v′ = M everywhere; the equilibrium solves M·x + b = 0 when M is invertible.
public struct AffineGame: Game {
    /// M, the (constant) Jacobian.
    public let M: Matrix
    /// b, the constant term.
    public let b: [Double]
    public let players: [Range<Int>]
    public let equilibrium: [Double]?

    /// The game with field v(x) = M·x + b.
    /// - Parameters:
    ///   - M: the square matrix of the field (v′ = M).
    ///   - b: the constant term.
    ///   - playerSizes: sizes of the players' blocks (they must add up to M's size).
    public init(M: Matrix, b: [Double], playerSizes: [Int]) throws {
        guard M.isSquare else { throw GameFlowError.invalidInput("affine game: M must be square (got \(M.rows)×\(M.columns))") }
        let n = M.rows
        guard b.count == n else { throw GameFlowError.invalidInput("affine game: b has \(b.count) entries, M is \(n)×\(n)") }
        guard M.storage.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("affine game: M has a non-finite entry") }
        guard b.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("affine game: b has a non-finite entry") }
        guard !playerSizes.isEmpty, playerSizes.allSatisfy({ $0 >= 1 }) else {
            throw GameFlowError.invalidInput("affine game: player sizes must be ≥ 1 (got \(playerSizes))")
        }
        guard playerSizes.reduce(0, +) == n else {
            throw GameFlowError.invalidInput("affine game: player sizes \(playerSizes) add up to \(playerSizes.reduce(0, +)), M is \(n)×\(n)")
        }
        self.M = M
        self.b = b
        self.players = playerBlocks(sizes: playerSizes)
        self.equilibrium = try? M.solve(b.map { -$0 })
        self.equilibria = n <= EquilibriumSet.dimensionLimit ? EquilibriumSet(dimension: n, bNorm: norm2(b)) { M } : nil
    }

    /// {x : Mx + b = 0}, computed on first use up to n = 2000.
    let equilibria: EquilibriumSet?

    /// The distance to {x : Mx + b = 0} (nil when b is outside the range of M: no equilibria);
    /// above n = 2000, to `equilibrium`.
    public func distanceToEquilibria(from x: [Double]) -> Double? {
        if let set = equilibria { return set.distance(from: x, residual: vectorField(at: x)) }
        return equilibrium.map { distance(x, $0) }
    }

    /// n − rank(M) (nil above n = 2000, or without equilibria).
    public var equilibriumSetDimension: Int? {
        let zero = [Double](repeating: 0, count: M.rows)
        guard let set = equilibria, set.distance(from: zero, residual: b) != nil else { return equilibrium == nil ? nil : 0 }
        return set.dimension
    }

    public var name: String { "affine" }
    public var dimension: Int { M.rows }
    public var hasExactDerivatives: Bool { true }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        copyValues(b, into: &v)
        x.withUnsafeBufferPointer { xs in
            v.withUnsafeMutableBufferPointer { vs in
                M.gemv(transpose: false, alpha: 1, x: xs.baseAddress!, beta: 1, y: vs.baseAddress!)
            }
        }
    }

    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        u.withUnsafeBufferPointer { us in
            out.withUnsafeMutableBufferPointer { os in
                M.gemv(transpose: false, alpha: 1, x: us.baseAddress!, beta: 0, y: os.baseAddress!)
            }
        }
    }

    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        u.withUnsafeBufferPointer { us in
            out.withUnsafeMutableBufferPointer { os in
                M.gemv(transpose: true, alpha: 1, x: us.baseAddress!, beta: 0, y: os.baseAddress!)
            }
        }
    }

    public func jacobian(at x: [Double], step: Int, into out: inout [Double]) {
        copyValues(M.storage, into: &out)
    }
}
