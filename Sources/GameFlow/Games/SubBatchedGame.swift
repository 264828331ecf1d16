import Foundation

/// A stochastic game whose minibatch at step k is `parts` independent sub-batches, part s drawn
/// at `Game.subStepIndex(k, s)` of the base game:
///
///     v(x; k) = (1/P)·Σₛ v_base(x; subStepIndex(k, s)),   s = 0 … P − 1,
///
/// and so a `PerExampleGame` whose "examples" are the parts: consensus can debias its estimate
/// of L = ½‖v‖² on any stochastic game (`ConsensusDebias`), the MLP GAN included. With P = 2
/// parts of B/2 samples, `split`'s ½⟨v_A, v_B⟩ is the halves' product; with P = B parts of one
/// sample, `variance` is the supplement's per-example estimate (Lemma 15).
///
/// Work per product: P products of the base game on its (smaller) batch, so the same
/// multiply-adds as one product on the whole batch, plus n·P additions. Derivatives are exact
/// when the base game's are.
public struct SubBatchedGame<Base: Game>: FieldModifier, PerExampleGame {
    /// The game on one part's batch.
    public let base: Base
    /// P, the independent parts of each minibatch.
    public let parts: Int
    private let scratch = Scratch()

    /// `base` with each minibatch made of `parts` ≥ 2 independent sub-batches.
    public init(_ base: Base, parts: Int) throws {
        guard parts >= 2 else { throw GameFlowError.invalidInput("a sub-batched game needs at least 2 parts (got \(parts))") }
        self.base = base
        self.parts = parts
    }

    /// The parts play the per-example fields' role.
    public var batchSize: Int { parts }

    /// The mean over the parts of `product` (each written into a pooled buffer).
    private func mean(into out: inout [Double], _ product: (Int, inout [Double]) -> Void) {
        var t = scratch.take(out.count)
        for j in out.indices { out[j] = 0 }
        let w = 1 / Double(parts)
        for s in 0..<parts {
            product(s, &t)
            for j in out.indices { out[j] += w * t[j] }
        }
        scratch.give(&t)
    }

    public func evaluate(at x: [Double], step: Int, into v: inout [Double]) {
        mean(into: &v) { s, t in base.evaluate(at: x, step: Self.subStepIndex(step, s), into: &t) }
    }
    public func evaluate(at x: [Double], step: Int, player: Int, into v: inout [Double]) {
        mean(into: &v) { s, t in base.evaluate(at: x, step: Self.subStepIndex(step, s), player: player, into: &t) }
    }
    public func jacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        mean(into: &out) { s, t in base.jacobianVectorProduct(at: x, u, step: Self.subStepIndex(step, s), into: &t) }
    }
    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, into out: inout [Double]) {
        mean(into: &out) { s, t in base.transposeJacobianVectorProduct(at: x, u, step: Self.subStepIndex(step, s), into: &t) }
    }
    public func jacobian(at x: [Double], step: Int, into out: inout [Double]) {
        mean(into: &out) { s, t in base.jacobian(at: x, step: Self.subStepIndex(step, s), into: &t) }
    }

    public func evaluate(at x: [Double], step: Int, example i: Int, into v: inout [Double]) {
        base.evaluate(at: x, step: Self.subStepIndex(step, i), into: &v)
    }
    public func transposeJacobianVectorProduct(at x: [Double], _ u: [Double], step: Int, example i: Int, into out: inout [Double]) {
        base.transposeJacobianVectorProduct(at: x, u, step: Self.subStepIndex(step, i), into: &out)
    }
}
