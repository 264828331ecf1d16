import GameFlow

// A convolutional GAN as a composition of layers (PyTorch's layouts and arithmetic), on a small
// set of 1×8×8 images: its field's exact products checked against a central difference and the
// adjoint identity, then a few steps of consensus optimisation with RMSProp.
var rng = SeededGenerator(seed: 1)
let pixels = (0..<(100 * 64)).map { _ in UInt8(rng.next() % 256) }          // uint8 p is seen as p/127.5 − 1
let images = try ImageDataset(name: "noise", shape: [1, 8, 8], pixels: .bytes(pixels))
let architecture = Architecture(
    latent: 8,
    generator: [.dense(out: 32), .reshape([2, 4, 4]), .activation(.relu),
                .deconv(out: 1, kernel: 4, stride: 2, padding: 1, outputPadding: 0), .activation(.tanh)],
    discriminator: [.conv(out: 4, kernel: 4, stride: 2, padding: 1), .activation(.leakyRelu(slope: 0.2)),
                    .flatten, .dense(out: 1)])
let gan = try NetworkGAN(architecture: architecture, source: images, sampleShape: images.shape, batchSize: 16, seed: 0)
let x = gan.initialState(seed: 0)
let dcgan28 = try Architecture.dcgan28.networks(sampleShape: [1, 28, 28])
print("parameters", gan.dimension, "here;", dcgan28.generator.parameterCount + dcgan28.discriminator.parameterCount, "in dcgan28")

// v′u against (v(x + εu) − v(x − εu))/2ε, and ⟨w, v′u⟩ = ⟨v′ᵀw, u⟩.
let u = (0..<gan.dimension).map { _ in rng.normal() }, w = (0..<gan.dimension).map { _ in rng.normal() }
var jvp = [Double](repeating: 0, count: gan.dimension), vjp = jvp
gan.jacobianVectorProduct(at: x, u, step: 0, into: &jvp)
gan.transposeJacobianVectorProduct(at: x, w, step: 0, into: &vjp)
let e = 1e-6
let plus = gan.vectorField(at: zip(x, u).map { $0 + e * $1 }, step: 0), minus = gan.vectorField(at: zip(x, u).map { $0 - e * $1 }, step: 0)
let difference = zip(plus, minus).map { ($0 - $1) / (2 * e) }
print("JVP error", zip(jvp, difference).map { abs($0 - $1) }.max()! / difference.map(abs).max()!)
print("adjoint error", abs(dot(w, jvp) - dot(vjp, u)) / (norm2(w) * norm2(jvp)))

let scheme = Preconditioned(try Consensus(gamma: 0.1), method: .referenceRMSProp)
let solution = try solve(gan, scheme: scheme, from: x, options: SolveOptions(stepSize: 1e-3, maxSteps: 50))
print(solution.status, solution.steps, "steps; ‖v‖ at the evaluation batch", norm2(gan.vectorField(at: solution.finalState, step: NetworkGAN.evaluationStep)))
