import Testing
@testable import GameFlow

@Suite struct VectorTests {
    @Test("maxAbs is max |xᵢ| for every length (vector part and tail), and NaN wherever a NaN sits")
    func maxAbsMatchesDefinition() {
        var rng = SeededGenerator(seed: 12)
        for n in Array(0...20) + [2003] {
            let x = (0..<n).map { _ in rng.normal() * 10 }
            let expected = x.map { abs($0) }.max() ?? 0
            #expect(maxAbs(x) == expected, "n = \(n)")
            for i in n <= 20 ? Array(0..<n) : [0, 7, 8, 1000, 1999, 2000, 2002] {
                var y = x
                y[i] = .nan
                #expect(maxAbs(y).isNaN, "n = \(n), NaN at \(i)")
                y[i] = -.infinity
                #expect(maxAbs(y) == .infinity, "n = \(n), −∞ at \(i)")
            }
        }
        #expect(maxAbs([-3, -7, -1, -2, -5, -4, -6, -8, -0.5]) == 8)   // negatives only: |x|, not x
    }
}
