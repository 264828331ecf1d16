import Testing
import GameFlow
import GameFlowBenchKit
import CAllocationCounter

/// The allocation counter behind `gameflow-bench allocations` (which CI runs on the release
/// build, where "no allocation per step" is the claim: this debug build allocates in the standard
/// library's unspecialised generics).
@Suite struct AllocationTests {
    /// The counter sees the Swift runtime's allocations and C's, on this thread only.
    @Test func counterSeesSwiftAndCAllocations() {
        gf_allocation_counting_begin()
        let a = [Double](repeating: 1, count: 1000 + Int.random(in: 0..<2))
        let b = [Int](repeating: 2, count: 10 + Int.random(in: 0..<2))
        let counted = gf_allocation_counting_end()
        #expect(a.count + b.count >= 1010)
        #expect(counted >= 2)
        gf_allocation_counting_begin()
        #expect(gf_allocation_counting_end() == 0)
    }

    /// A scheme that makes one array per step is counted at least once per step.
    struct AllocatingScheme: Scheme {
        var name: String { "allocating" }
        var order: Int { 1 }
        var evaluationsPerStep: Int { 1 }
        func makeCache<G: Game>(for game: G) throws -> [Double] { [Double](repeating: 0, count: game.dimension) }
        func step<G: Game>(_ x: inout [Double], h: Double, cache: inout [Double], context: inout StepContext<G>) -> StepResult {
            var fresh = [Double](repeating: 0, count: x.count)   // the allocation being looked for
            context.evaluate(x, into: &fresh)
            for i in x.indices { x[i] += h * fresh[i] }
            return .success
        }
    }

    @Test func anAllocatingSchemeIsCaught() throws {
        let game = try BilinearGame(A: Matrix(rows: 2, columns: 2, storage: [1, 2, 3, 4]))
        let counted = try AllocationSurvey.count(game, AllocatingScheme(), x0: [1, 0, 0, 1], h: 0.01, steps: 5)
        #expect(counted.ours >= 5)
        #expect(counted.inBLAS == 0)
    }

    #if !DEBUG
    /// The survey itself (in an optimised test build): every run allocates nothing per step.
    @Test func noSchemeAllocatesPerStep() throws {
        let offenders = try AllocationSurvey.run().filter { $0.allocations > 0 }
        #expect(offenders.isEmpty, "\(offenders.map { "\($0.game): \($0.scheme): \($0.allocations)" })")
    }
    #endif
}
