import GameFlow

// Local convergence at an equilibrium is decided by the eigenvalues of v′ there and by each
// scheme's step map (Proposition 3 of "The Numerics of GANs").
let game = try DiracGAN(r1: 0.3)
let xBar = game.equilibrium!
let spectrum = try Spectrum(of: game, at: xBar)
print("eigenvalues:", spectrum.eigenvalues.map { "\($0.real) + \($0.imaginary)i" })
print("q = max |Im λ / Re λ| =", spectrum.maxImagRealRatio ?? .infinity)
print("SimGA is stable for h <", spectrum.maxStableEulerStep ?? 0)   // Lemma 4

let j = game.jacobianMatrix(at: xBar)
for scheme in [SimGA(), RK4(), try Consensus(gamma: 1), AltGA()] as [any Scheme] {
    let bound = try Stability.largestStableStep(scheme, jacobian: j, players: game.players)
    let radius = try Stability.stepRadius(scheme, jacobian: j, players: game.players, h: 0.5)
    print(scheme.name, "largest stable step:", bound, "radius at h = 0.5:", radius)
}

// Consensus moves the eigenvalues left (Lemma 9): q(γ) ≤ 1/(c + 2ρ²γ).
let lemma = try Lemma9(A: j, gamma: 1)
print("Lemma 9: q =", lemma.q ?? .infinity, "≤", lemma.bound)
