import Testing
@testable import GameFlow

/// Float32 networks inside a float64 game (`Precision`): the four products agree with float64's
/// to float's precision (per-precision tolerances), the adjoint identity holds to float round-off,
/// the float path is bitwise repeatable, and a float32 GAN's v, v′u and v′ᵀu agree with the
/// float64 GAN's.
@Suite struct PrecisionTests {
    /// Float's unit round-off; the tolerances below are a few hundred of them (depth and batch sums).
    static let u32 = Double(Float.ulpOfOne)

    static func pair(_ k: Int) throws -> (NetworkTests.Setup, NetworkTests.Setup) {
        let c = NetworkTests.cases[k]
        let s64 = try NetworkTests.setup(c)
        let net32 = try Network(inputShape: c.input, layers: c.layers, precision: .float32)
        #expect(net32.precision == .float32 && net32.parameterCount == s64.net.parameterCount)
        let s32 = NetworkTests.Setup(net: net32, ws: NetworkWorkspace(net32, capacity: s64.batch), p: s64.p, x: s64.x, dp: s64.dp, dx: s64.dx,
                                     w: s64.w, rw: s64.rw, batch: s64.batch)
        return (s64, s32)
    }

    /// Every product of one setup: output, JVP, VJP (parameters, input), R-backward (parameters, input).
    static func products(_ s: NetworkTests.Setup) -> [[Double]] {
        let n = s.net.parameterCount
        var gp = [Double](repeating: 0, count: n), rgp = gp
        var gx = [Double](repeating: 0, count: s.x.count), rgx = gx
        let y = NetworkTests.output(s, s.p, s.x)
        let j = s.dp.withUnsafeBufferPointer { dp in s.dx.withUnsafeBufferPointer { dx in
            Array(UnsafeBufferPointer(start: s.net.jvp(s.p, direction: dp.baseAddress, inputDirection: dx.baseAddress, s.ws),
                                      count: s.batch * s.net.outputCount)) } }
        s.dp.withUnsafeBufferPointer { dp in
            s.net.rBackward(s.p, dOut: s.w, dOutTangent: s.rw, direction: dp.baseAddress, s.ws, gradient: &gp, gradientTangent: &rgp,
                            inputGradient: &gx, inputGradientTangent: &rgx)
        }
        return [y, j, gp, gx, rgp, rgx]
    }

    @Test("Float32 networks: every product within 1e-4 of float64's, bitwise repeatable", arguments: 0..<NetworkTests.cases.count)
    func productsAgreeWithFloat64(_ k: Int) throws {
        let (s64, s32) = try Self.pair(k)
        let want = Self.products(s64), got = Self.products(s32)
        for (i, (a, b)) in zip(got, want).enumerated() {
            let d = maxRelativeDifference(a, b)
            // Far above double's round-off, within float's: the float path really runs in float.
            #expect(d < 1e-4 && d > 1e-12, "\(NetworkTests.cases[k].name) product \(i): \(d)")
        }
        #expect(Self.products(s32) == got)
    }

    @Test("Float32 networks: ⟨w, J·(dp, dx)⟩ = ⟨Jᵀw, (dp, dx)⟩ to float round-off", arguments: 0..<NetworkTests.cases.count)
    func adjointIdentityInFloat(_ k: Int) throws {
        let (_, s) = try Self.pair(k)
        let p = Self.products(s)
        let lhs = dot(s.w, p[1]), rhs = dot(p[2], s.dp) + dot(p[3], s.dx)
        #expect(abs(lhs - rhs) <= 100 * Self.u32 * (norm2(s.w) * norm2(p[1]) + norm2(p[2]) * norm2(s.dp) + norm2(p[3]) * norm2(s.dx)))
    }

    @Test("A float32 convolutional GAN: v, v′u, v′ᵀu and the player blocks within 1e-4 of float64's; R1's Hessian by float-sized differences")
    func convolutionalGAN() throws {
        for r1 in [0.0, 0.5] {
            let g64 = try NetworkGANTests.convGAN(.nonSaturating, r1: r1)
            let g32 = try g64.withPrecision(.float32)
            #expect(g32.precision == .float32 && g64.precision == .float64 && g32.dimension == g64.dimension)
            var rng = SeededGenerator(seed: 9)
            let x = g64.initialState(seed: 2).map { $0 + 0.05 * rng.normal() }, u = randomVector(g64.dimension, &rng)
            let want = ThreadedGANTests.products(g64, at: x, u, step: 4), got = ThreadedGANTests.products(g32, at: x, u, step: 4)
            // R1's Hessian products are central differences of ∇P with the step ε^⅓ for float's ε:
            // truncation and round-off both near ε^⅔ ≈ 2e-5 relative.
            let tolerances = r1 == 0 ? [1e-4, 1e-4, 1e-4, 1e-4, 1e-4] : [1e-4, 2e-3, 2e-3, 1e-4, 1e-4]
            for (k, (a, b)) in zip(got, want).enumerated() {
                let d = maxRelativeDifference(a, b)
                #expect(d < tolerances[k] && d > 1e-12, "R1 \(r1), product \(k): \(d)")
            }
            #expect(ThreadedGANTests.products(g32, at: x, u, step: 4) == got)
            // Threads on top of float32: the same products up to the batch sums' order (in float).
            let two = ThreadedGANTests.products(try g32.withThreads(2), at: x, u, step: 4)
            for (k, (a, b)) in zip(two, got).enumerated() { #expect(maxRelativeDifference(a, b) < tolerances[k], "threads, product \(k)") }
            #expect(try g32.withThreads(2).withPrecision(.float64).threads == 2)
        }
    }

    @Test("A float32 MLP GAN runs on the float kernels and agrees with float64 to 1e-4")
    func mlpGANOnSgemm() throws {
        let g64 = try mlpGAN([4, 16, 16, 2], [2, 16, 16, 1], activation: .relu, data: .ring8, batchSize: 32, utility: .nonSaturating, seed: 1)
        let g32 = try g64.withPrecision(.float32)
        #expect(g64.generator.backend(ofLayer: 0) == "kernels" && g32.generator.backend(ofLayer: 0) == "kernels (float32)")
        var rng = SeededGenerator(seed: 3)
        let x = g64.initialState(seed: 1), u = randomVector(g64.dimension, &rng)
        let want = ThreadedGANTests.products(g64, at: x, u, step: 2), got = ThreadedGANTests.products(g32, at: x, u, step: 2)
        for (k, (a, b)) in zip(got, want).enumerated() { #expect(maxRelativeDifference(a, b) < 1e-4, "product \(k)") }
    }
}
