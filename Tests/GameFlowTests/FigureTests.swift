import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Numerics
import Testing
@testable import GameFlow
import GameFlowTestSupport


@Suite struct FigureTests {
    @Test("Spectrum figure: well-formed SVG, one series per stability boundary, axis line and eigenvalue set")
    func spectrumFigure() throws {
        let j = try DiracGAN(r1: 0.3).jacobianMatrix(at: [0, 0])
        let sets = [(label: "v′", eigenvalues: try eigenvalues(of: j)),
                    (label: "v′ − γv′ᵀv′", eigenvalues: try eigenvalues(of: consensusJacobian(j, gamma: 1)))]
        let schemes: [any Scheme] = [SimGA(), RK4(), Extragradient(), AltGA()]   // AltGA has no R(z): no boundary
        let svg = Figures.spectrum(sets, h: 0.5, schemes: schemes).svg()
        let r = SVGChecker.check(svg)
        #expect(r.wellFormed && r.root == "svg")
        #expect(r.series == 3 + 2 + 2)   // 3 boundaries, 2 axis lines, 2 eigenvalue sets
        #expect(r.names.filter { $0.hasPrefix("|R(z)| = 1") }.count == 3)
    }

    @Test("Stability boundary of Euler is the unit circle around −1 (marching squares)")
    func eulerBoundary() {
        let segs = contourSegments(xRange: -2.5...0.5, yRange: -1.5...1.5, resolution: 200) { x, y in
            ((1 + x) * (1 + x) + y * y).squareRoot() - 1
        }
        #expect(segs.count > 100)
        for (a, b) in segs {
            #expect(abs(hypot(1 + a.0, a.1) - 1) < 1e-3 && abs(hypot(1 + b.0, b.1) - 1) < 1e-3)
        }
    }

    @Test("Phase portrait and convergence figures are well-formed with the expected series")
    func phaseAndConvergence() throws {
        let game = try DiracGAN()
        let flow = Figures.flow(game, from: [1, 1], time: 20, substeps: 400)
        #expect(flow.count == 401)
        #expect(flow.allSatisfy { abs(norm2($0) - 2.0.squareRoot()) < 1e-8 })   // the exact flow conserves θ² + ψ²
        var iterates: [(label: String, states: [[Double]])] = []
        var curves: [Figures.Curve] = []
        for (k, scheme) in ([SimGA(), Extragradient()] as [any Scheme]).enumerated() {
            let opts = SolveOptions(stepSize: 0.2, maxSteps: 100, recording: .init(every: 1, states: true))
            let s = try solve(game, scheme: scheme, from: [1, 1], options: opts)
            let rec = try #require(s.recording)
            iterates.append((scheme.name, (0..<rec.count).map { rec.state(at: $0) }))
            curves.append(.init(label: scheme.name, steps: rec.steps, values: rec.series(.vectorFieldNorm), group: k))
        }
        let phase = SVGChecker.check(Figures.phasePortrait(game, flow: flow, iterates: iterates, title: "Dirac <&> test").svg())
        #expect(phase.wellFormed)
        #expect(phase.series == 1 + 1 + 2 + 1)   // field, flow, 2 schemes, equilibrium
        #expect(phase.names.contains("flow: dx/dt = v(x) (GSL rk8pd, rtol 1e-10)") && phase.names.contains("iterates: simga"))
        #expect(phase.names.last == "equilibrium" && phase.names.dropLast().last?.hasPrefix("flow") == true)   // flow on top
        let conv = SVGChecker.check(Figures.convergence(curves, title: "t").svg())
        #expect(conv.wellFormed && conv.series == 2)
    }

    @Test("Plots skip non-finite and non-positive (log) points instead of writing NaN into the SVG")
    func nonFinitePoints() {
        var plot = Plot(title: "t", xLabel: "x", yLabel: "y")
        plot.yScale = .log
        plot.add("a", .line([(0, 1), (1, .nan), (2, 0), (3, -1), (4, 10)]))
        let svg = plot.svg()
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        #expect(SVGChecker.check(svg).wellFormed)
    }
}

@Suite struct SchemeColourTests {
    @Test("A scheme has one colour in the convergence and phase figures, whatever its position")
    func sameColour() throws {
        let game = try DiracGAN()
        let states = [[1.0, 1.0], [0.9, 1.1]]
        let conv = Figures.convergence([.init(label: "‖v‖", steps: [0, 1], values: [1, 0.5], group: 0, scheme: "rk4"),
                                        .init(label: "‖v‖", steps: [0, 1], values: [1, 0.5], group: 1, scheme: "simga")], title: "t")
        let phase = Figures.phasePortrait(game, flow: nil, iterates: [("simga", states), ("rk4", states)], title: "t")
        #expect(conv.series[1].color == phase.series.first { $0.name == "iterates: simga" }?.color)
        #expect(conv.series[0].color == phase.series.first { $0.name == "iterates: rk4" }?.color)
        #expect(conv.series[0].color != conv.series[1].color)
        #expect(Figures.schemeStyle("implicit-midpoint", index: 0).color != Figures.schemeStyle("implicit-euler", index: 0).color)
        #expect(Figures.schemeStyle("consensus γ=0.5", index: 7).color == Figures.schemeStyle("consensus", index: 0).color)
    }
}

@Suite struct DivergingViewTests {
    @Test("A diverging scheme is cut where it leaves the view and says so; the view stays the flow's")
    func clipped() throws {
        let game = try DiracGAN()
        let flow = Figures.flow(game, from: [1, 1], time: 10, substeps: 200)
        var states = [[1.0, 1.0]]
        var x = [1.0, 1.0]
        for _ in 0..<60 { x = try oneStep(game, SimGA(), from: x, h: 0.9); states.append(x) }   // spirals out fast
        let plot = Figures.phasePortrait(game, flow: flow, iterates: [("simga", states), ("rk4", [[1, 1], [0.99, 1.0]])], title: "t")
        let names = plot.series.compactMap(\.name)
        #expect(names.contains("iterates: simga (leaves the view: cut)"))
        #expect(names.contains("iterates: rk4"))
        guard case .lineWithMarkers(let pts, _) = plot.series.first(where: { $0.name?.hasPrefix("iterates: simga") == true })!.kind else {
            Issue.record("no simga series"); return
        }
        #expect(pts.count < states.count && pts.allSatisfy { abs($0.0) <= 6 && abs($0.1) <= 6 })
    }
}

@Suite struct DensityAndCloudFigureTests {
    @Test("The density figure is a 2-D histogram: its cells' counts plus the samples outside the view sum to the sample count; modes marked")
    func density() throws {
        let mixture = try GaussianMixture.named("ring8")
        var rng = SeededGenerator(seed: 5)
        // 3,000 samples: most on two modes (unequal mass), some far away.
        var samples: [Double] = []
        for k in 0..<3000 {
            let m = mixture.means[k % 10 == 0 ? 3 : 0]
            let far = k % 100 == 7
            samples += [m.0 + 0.01 * rng.normal() + (far ? 50 : 0), m.1 + 0.01 * rng.normal()]
        }
        let svg = Figures.sampleDensity(samples, mixture: mixture, title: "t").svg()
        let h = SVGChecker.heatmap(svg)
        #expect(h.cells.reduce(0, +) + h.outside == 3000)
        #expect(h.outside == 30)
        #expect(SVGChecker.check(svg).names.contains("target modes"))
        #expect(svg.contains("30 samples outside the view"))
        // The heavier mode's cell holds more samples than the lighter one's.
        #expect(h.cells.max()! > 300)
    }

    @Test("Figure 3's panels clip a far outlier to the bulk and say so, but keep the rightmost and the largest |Im/Re| in view")
    func cloudClipping() throws {
        var rng = SeededGenerator(seed: 9)
        var eig = (0..<200).map { _ in Complex(-0.1 * abs(rng.normal()), rng.normal()) }
        eig.append(Complex(-5000, 0))                       // far, and neither rightmost nor rotating: clipped
        eig += [Complex(-1e-3, 40), Complex(-1e-3, -40)]    // the largest |Im/Re| (40,000): kept in view
        eig.append(Complex(3, 0))                           // the rightmost: kept in view
        let svg = Figures.eigenvaluePanels(eig, eig, gamma: 1, lemma9Bound: 2, title: "t", note: "n")
        let check = SVGChecker.check(svg)
        #expect(check.wellFormed)
        #expect(check.names.filter { $0.contains("λ (204, 1 outside the view)") }.count == 2, "\(check.names)")
        #expect(check.names.contains { $0.hasPrefix("|Im λ| = q·|Re λ|, q = 4e+04") }, "\(check.names)")
        #expect(check.names.contains { $0.hasPrefix("Lemma 9 bound") })
        // Without the outlier nothing is clipped.
        let plain = Figures.eigenvaluePanels(Array(eig.dropLast(4)), Array(eig.dropLast(4)), gamma: 1, lemma9Bound: nil, title: "t", note: "n")
        #expect(!plain.contains("outside the view"))
    }
}
