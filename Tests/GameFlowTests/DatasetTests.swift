import Foundation
import Testing
@testable import GameFlow

@Suite struct DatasetTests {
    static func temp(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gameflow-data-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("A GAN on 3-D data: v matches finite differences of the utilities, v′u of v, and ⟨u, v′w⟩ = ⟨v′ᵀu, w⟩ (every activation)",
          arguments: Activation.allCases)
    func derivatives3D(activation: Activation) throws {
        var rng = SeededGenerator(seed: 3)
        let data = try Dataset(name: "cloud", dimension: 3, points: (0..<60).map { _ in rng.normal() })
        let g = try NetworkGAN.paperSetup(data: data, generatorHidden: [5, 4], discriminatorHidden: [6], latent: 3, batchSize: 7,
                                      activation: activation, seed: 11)
        #expect(g.dataDimension == 3 && g.generator.outputCount == 3 && g.discriminator.inputCount == 3)
        let x = MLPGANDerivativeTests.state(g, seed: 2)
        let v = g.vectorField(at: x, step: 4)
        let fd = MLPGANDerivativeTests.utilityGradient(g, at: x, step: 4)
        #expect(maxRelativeDifference(v, fd) < 1e-6, "\(activation)")
        let u = randomVector(g.dimension, &rng), w = randomVector(g.dimension, &rng)
        var jvp = [Double](repeating: 0, count: g.dimension), fdj = jvp, jtu = jvp, jw = jvp
        g.jacobianVectorProduct(at: x, u, step: 4, into: &jvp)
        g.finiteDifferenceJVP(at: x, u, step: 4, into: &fdj)
        #expect(maxRelativeDifference(fdj, jvp) < 1e-6, "\(activation)")
        g.jacobianVectorProduct(at: x, w, step: 4, into: &jw)
        g.transposeJacobianVectorProduct(at: x, u, step: 4, into: &jtu)
        #expect(abs(dot(u, jw) - dot(jtu, w)) <= 1e-10 * abs(dot(u, jw)) + 1e-14)
        // Samples have the data's dimension.
        #expect(g.samples(at: x, count: 5, sampleSeed: 1).count == 15)
    }

    @Test("Energy distance: the U-statistic formula on a small 1-D example; 0 in expectation for the same law, larger for a shifted one")
    func energy() throws {
        let a = [0.0, 1, 3], b = [1.0, 2]
        // 2·mean|a−b| − mean_{i≠j}|a_i−a_j| − mean_{i≠j}|b_i−b_j|
        let xy = ([1.0, 2, 0, 1, 2, 1]).reduce(0, +) / 6, xx = (1.0 + 3 + 2) / 3, yy = 1.0
        #expect(abs(energyDistance(a, b, dimension: 1) - (2 * xy - xx - yy)) < 1e-15)
        var rng = SeededGenerator(seed: 7)
        let p = (0..<4000).map { _ in rng.normal() }, q = (0..<4000).map { _ in rng.normal() }
        let same = energyDistance(p, q, dimension: 2, limit: 2000)
        let shifted = energyDistance(p, q.map { $0 + 1 }, dimension: 2, limit: 2000)
        #expect(abs(same) < 0.02 && shifted > 0.5, "\(same) \(shifted)")
    }

    @Test("CSV data: a header and any dimension load; ragged rows, non-numbers, non-finite values and empty files are one error naming the line")
    func csv() throws {
        let ok = try Dataset.load(path: try Self.temp("x,y,z\n1,2,3\n4, 5 ,6\n\n7,8,9\n"))
        #expect(ok.dimension == 3 && ok.count == 3 && ok.points == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        func message(_ text: String) -> String {
            do { _ = try Dataset.load(path: try Self.temp(text)); return "" } catch { return "\(error)" }
        }
        #expect(message("1,2\n3\n").contains("line 2") && message("1,2\n3\n").contains("1 values"))
        #expect(message("1,2\n3,abc\n").contains("'abc' is not a number"))
        #expect(message("1,2\n3,inf\n").contains("not finite"))
        #expect(message("").contains("no data rows"))
        #expect(message("a,b\n").contains("no data rows"))
    }
}
