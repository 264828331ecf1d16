import Foundation
import Testing
@testable import GameFlow

/// A network's four products against central finite differences and the adjoint identity,
/// for every layer type and activation, with strides, paddings and output paddings that do not
/// divide evenly; and convolution arithmetic against PyTorch's definitions written out as loops.
@Suite struct NetworkTests {
    /// Networks that together hold every layer type and activation.
    static let cases: [(name: String, input: [Int], layers: [LayerSpec])] = [
        ("conv-deconv", [2, 7, 6], [.conv(out: 3, kernel: 3, stride: 2, padding: 1), .activation(.leakyRelu(slope: 0.2)),
                                    .deconv(out: 2, kernel: 3, stride: 2, padding: 1, outputPadding: 1), .activation(.elu),
                                    .conv(out: 2, kernel: 2, stride: 3, padding: 0), .activation(.tanh),
                                    .flatten, .dense(out: 5), .activation(.sigmoid), .dense(out: 2)]),
        ("dense-deconv", [4], [.dense(out: 18), .activation(.softplus), .reshape([2, 3, 3]),
                               .deconv(out: 3, kernel: 4, stride: 3, padding: 2, outputPadding: 2), .activation(.relu),
                               .conv(out: 1, kernel: 3, stride: 1, padding: 2), .activation(.linear), .flatten, .dense(out: 3)]),
    ]

    struct Setup {
        let net: Network
        let ws: NetworkWorkspace
        let p: [Double], x: [Double], dp: [Double], dx: [Double], w: [Double], rw: [Double]
        let batch: Int
    }

    static func setup(_ c: (name: String, input: [Int], layers: [LayerSpec]), seed: UInt64 = 3) throws -> Setup {
        let net = try Network(inputShape: c.input, layers: c.layers)
        let batch = 3
        var rng = SeededGenerator(seed: seed)
        var p = [Double](repeating: 0, count: net.parameterCount)
        net.initialize(&p, at: 0, rng: &rng)
        for i in p.indices { p[i] += 0.1 * rng.normal() }   // non-zero biases too
        return Setup(net: net, ws: NetworkWorkspace(net, capacity: batch), p: p,
                     x: randomVector(batch * net.inputCount, &rng), dp: randomVector(net.parameterCount, &rng),
                     dx: randomVector(batch * net.inputCount, &rng), w: randomVector(batch * net.outputCount, &rng),
                     rw: randomVector(batch * net.outputCount, &rng), batch: batch)
    }

    static func output(_ s: Setup, _ p: [Double], _ x: [Double]) -> [Double] {
        let o = s.net.forward(p, input: x, batch: s.batch, s.ws)
        return Array(UnsafeBufferPointer(start: o, count: s.batch * s.net.outputCount))
    }

    /// (∂ℓ/∂p, ∂ℓ/∂x) for the upstream w.
    static func gradients(_ s: Setup, _ p: [Double], _ x: [Double], _ w: [Double]) -> ([Double], [Double]) {
        var gp = [Double](repeating: 0, count: s.net.parameterCount), gx = [Double](repeating: 0, count: x.count)
        s.net.forward(p, input: x, batch: s.batch, s.ws)
        s.net.vjp(p, dOut: w, s.ws, gradient: &gp, inputGradient: &gx)
        return (gp, gx)
    }

    static func shifted(_ a: [Double], _ d: [Double], _ e: Double) -> [Double] { zip(a, d).map { $0 + e * $1 } }

    @Test(arguments: 0..<cases.count)
    func jvpMatchesCentralDifferences(_ k: Int) throws {
        let s = try Self.setup(Self.cases[k])
        s.net.forward(s.p, input: s.x, batch: s.batch, s.ws)
        let j = s.dp.withUnsafeBufferPointer { dp in s.dx.withUnsafeBufferPointer { dx in
            Array(UnsafeBufferPointer(start: s.net.jvp(s.p, direction: dp.baseAddress, inputDirection: dx.baseAddress, s.ws), count: s.batch * s.net.outputCount)) } }
        let e = 1e-6
        let plus = Self.output(s, Self.shifted(s.p, s.dp, e), Self.shifted(s.x, s.dx, e))
        let minus = Self.output(s, Self.shifted(s.p, s.dp, -e), Self.shifted(s.x, s.dx, -e))
        let fd = zip(plus, minus).map { ($0 - $1) / (2 * e) }
        #expect(maxRelativeDifference(j, fd) < 1e-7, "\(Self.cases[k].name)")
    }

    @Test(arguments: 0..<cases.count)
    func vjpIsTheAdjointOfTheJVP(_ k: Int) throws {
        let s = try Self.setup(Self.cases[k])
        s.net.forward(s.p, input: s.x, batch: s.batch, s.ws)
        let j = s.dp.withUnsafeBufferPointer { dp in s.dx.withUnsafeBufferPointer { dx in
            Array(UnsafeBufferPointer(start: s.net.jvp(s.p, direction: dp.baseAddress, inputDirection: dx.baseAddress, s.ws), count: s.batch * s.net.outputCount)) } }
        let (gp, gx) = Self.gradients(s, s.p, s.x, s.w)
        let lhs = dot(s.w, j), rhs = dot(gp, s.dp) + dot(gx, s.dx)
        #expect(abs(lhs - rhs) <= 1e-12 * (abs(lhs) + norm2(s.w) * norm2(j)), "\(Self.cases[k].name): \(lhs) vs \(rhs)")
        // And the gradient itself against differences of ⟨w, F⟩ along (dp, dx).
        let e = 1e-6
        let fd = (dot(s.w, Self.output(s, Self.shifted(s.p, s.dp, e), Self.shifted(s.x, s.dx, e)))
                  - dot(s.w, Self.output(s, Self.shifted(s.p, s.dp, -e), Self.shifted(s.x, s.dx, -e)))) / (2 * e)
        #expect(relativeError(rhs, fd) < 1e-7, "\(Self.cases[k].name): \(rhs) vs \(fd)")
    }

    @Test(arguments: 0..<cases.count)
    func rBackwardMatchesDifferencesOfTheVJP(_ k: Int) throws {
        let s = try Self.setup(Self.cases[k])
        let n = s.net.parameterCount
        var rgp = [Double](repeating: 0, count: n), gp = [Double](repeating: 0, count: n)
        var gx = [Double](repeating: 0, count: s.x.count), rgx = [Double](repeating: 0, count: s.x.count)
        s.net.forward(s.p, input: s.x, batch: s.batch, s.ws)
        s.dp.withUnsafeBufferPointer { dp in
            s.dx.withUnsafeBufferPointer { dx in _ = s.net.jvp(s.p, direction: dp.baseAddress, inputDirection: dx.baseAddress, s.ws) }
            s.net.rBackward(s.p, dOut: s.w, dOutTangent: s.rw, direction: dp.baseAddress, s.ws, gradient: &gp, gradientTangent: &rgp,
                            inputGradient: &gx, inputGradientTangent: &rgx)
        }
        // Central differences of the exact VJP along (dp, dx), the upstream moving along rw.
        let e = 1e-6
        let plus = Self.gradients(s, Self.shifted(s.p, s.dp, e), Self.shifted(s.x, s.dx, e), Self.shifted(s.w, s.rw, e))
        let minus = Self.gradients(s, Self.shifted(s.p, s.dp, -e), Self.shifted(s.x, s.dx, -e), Self.shifted(s.w, s.rw, -e))
        let fdp = zip(plus.0, minus.0).map { ($0 - $1) / (2 * e) }, fdx = zip(plus.1, minus.1).map { ($0 - $1) / (2 * e) }
        #expect(maxRelativeDifference(rgp, fdp) < 1e-6, "\(Self.cases[k].name) parameters")
        #expect(maxRelativeDifference(rgx, fdx) < 1e-6, "\(Self.cases[k].name) input")
        // The VJP part of the pass is the VJP.
        let plain = Self.gradients(s, s.p, s.x, s.w)
        #expect(maxRelativeDifference(gp, plain.0) < 1e-14 && maxRelativeDifference(gx, plain.1) < 1e-14)
    }

    /// Each activation's σ′ and σ″ against differences of σ and σ′.
    @Test(arguments: [Pointwise.relu, .leakyRelu(slope: 0.2), .elu, .tanh, .sigmoid, .softplus, .linear])
    func activationDerivatives(_ a: Pointwise) {
        for z in [-3.1, -0.7, -0.05, 0.3, 1.9, 25.0, -40.0] {
            let e = 1e-6 * max(1, abs(z))
            let d = a.derivatives(z)
            #expect(abs(d.d1 - (a.value(z + e) - a.value(z - e)) / (2 * e)) < 1e-7 * max(1, abs(d.d1)), "\(a.name) σ′(\(z))")
            #expect(abs(d.d2 - (a.derivatives(z + e).d1 - a.derivatives(z - e).d1) / (2 * e)) < 1e-6, "\(a.name) σ″(\(z))")
        }
    }

    /// Conv2d and ConvTranspose2d against PyTorch's definitions as plain loops:
    /// y[o, h, w] = b[o] + Σ x[c, h·s − p + i, w·s − p + j]·W[o, c, i, j] and
    /// y[o, h·s − p + i, w·s − p + j] += x[c, h, w]·W[c, o, i, j] (cropped), b added after.
    @Test func convolutionArithmeticIsPyTorchs() throws {
        var rng = SeededGenerator(seed: 11)
        let (C, H, W, O, k, s, p) = (2, 5, 7, 3, 3, 2, 1)
        let conv = try Network(inputShape: [C, H, W], layers: [.conv(out: O, kernel: k, stride: s, padding: p)])
        #expect(conv.outputShape == [O, (H + 2 * p - k) / s + 1, (W + 2 * p - k) / s + 1])
        let params = randomVector(conv.parameterCount, &rng), x = randomVector(C * H * W, &rng)
        let ws = NetworkWorkspace(conv, capacity: 1)
        let y = Array(UnsafeBufferPointer(start: conv.forward(params, input: x, batch: 1, ws), count: conv.outputCount))
        let (Ho, Wo) = (conv.outputShape[1], conv.outputShape[2])
        var naive = [Double](repeating: 0, count: O * Ho * Wo)
        for o in 0..<O { for h in 0..<Ho { for w in 0..<Wo {
            var acc = params[O * C * k * k + o]
            for c in 0..<C { for i in 0..<k { for j in 0..<k {
                let hh = h * s - p + i, ww = w * s - p + j
                if hh >= 0 && hh < H && ww >= 0 && ww < W { acc += x[(c * H + hh) * W + ww] * params[((o * C + c) * k + i) * k + j] }
            } } }
            naive[(o * Ho + h) * Wo + w] = acc
        } } }
        #expect(maxRelativeDifference(y, naive) < 1e-14)

        let op = 1
        let deconv = try Network(inputShape: [C, H, W], layers: [.deconv(out: O, kernel: k, stride: s, padding: p, outputPadding: op)])
        let (Hd, Wd) = ((H - 1) * s - 2 * p + k + op, (W - 1) * s - 2 * p + k + op)
        #expect(deconv.outputShape == [O, Hd, Wd])
        let dparams = randomVector(deconv.parameterCount, &rng)
        let dws = NetworkWorkspace(deconv, capacity: 1)
        let yd = Array(UnsafeBufferPointer(start: deconv.forward(dparams, input: x, batch: 1, dws), count: deconv.outputCount))
        var full = [Double](repeating: 0, count: O * Hd * Wd)
        for o in 0..<O { for q in 0..<(Hd * Wd) { full[o * Hd * Wd + q] = dparams[C * O * k * k + o] } }
        for c in 0..<C { for h in 0..<H { for w in 0..<W { for o in 0..<O { for i in 0..<k { for j in 0..<k {
            let hh = h * s - p + i, ww = w * s - p + j
            if hh >= 0 && hh < Hd && ww >= 0 && ww < Wd {
                full[(o * Hd + hh) * Wd + ww] += x[(c * H + h) * W + w] * dparams[((c * O + o) * k + i) * k + j]
            }
        } } } } } }
        #expect(maxRelativeDifference(yd, full) < 1e-14)
    }

    /// Convolutions work on chunks of samples (one GEMM per chunk): every pass is the same with
    /// one sample a chunk as with the whole batch in one.
    @Test(arguments: 0..<cases.count)
    func chunkingDoesNotChangeTheProducts(_ k: Int) throws {
        let s = try Self.setup(Self.cases[k])
        let perSample = s.net.layers.compactMap { layer -> Int? in
            switch layer.kind {
            case .map(.conv(let g)), .map(.deconv(let g)): return g.perSample
            default: return nil
            }
        }.max()!
        let small = NetworkWorkspace(s.net, capacity: s.batch, scratchLimit: perSample)
        func passes(_ ws: NetworkWorkspace) -> [Double] {
            var out = Array(UnsafeBufferPointer(start: s.net.forward(s.p, input: s.x, batch: s.batch, ws), count: s.batch * s.net.outputCount))
            var gp = [Double](repeating: 0, count: s.net.parameterCount), rgp = gp
            var gx = [Double](repeating: 0, count: s.x.count), rgx = gx
            s.dp.withUnsafeBufferPointer { dp in
                s.dx.withUnsafeBufferPointer { dx in
                    out += Array(UnsafeBufferPointer(start: s.net.jvp(s.p, direction: dp.baseAddress, inputDirection: dx.baseAddress, ws), count: s.batch * s.net.outputCount))
                }
                s.net.rBackward(s.p, dOut: s.w, dOutTangent: s.rw, direction: dp.baseAddress, ws, gradient: &gp, gradientTangent: &rgp,
                                inputGradient: &gx, inputGradientTangent: &rgx)
            }
            return out + gp + rgp + gx + rgx
        }
        #expect(maxRelativeDifference(passes(small), passes(s.ws)) < 1e-13)
    }

    @Test func dcgan28HasTheIssuesParameterCount() throws {
        let (g, d) = try Architecture.dcgan28.networks(sampleShape: [1, 28, 28])
        #expect(g.parameterCount + d.parameterCount == 273_666)
        #expect(g.outputShape == [1, 28, 28] && d.outputShape == [1])
    }

    @Test func shapeMismatchesNameTheLayer() {
        #expect(throws: GameFlowError.self) { try Network(inputShape: [10], layers: [.conv(out: 2, kernel: 3, stride: 1, padding: 0)]) }
        do {
            _ = try Network(inputShape: [1, 4, 4], layers: [.conv(out: 2, kernel: 3, stride: 1, padding: 0), .reshape([3, 3])], role: "generator")
            Issue.record("no error")
        } catch let e as GameFlowError {
            #expect(e.description.hasPrefix("generator layer 2 (reshape 3×3)"), "\(e)")
        } catch { Issue.record("\(error)") }
    }
}
