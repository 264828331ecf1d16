import Foundation
import Numerics

/// The paper's figures, built as `Plot`s (write them with `plot.svg()`).
public enum Figures {
    /// Figure 1 / Figure 3 of "The Numerics of GANs": the eigenvalues of h·v′ (one marker series
    /// per labelled set, e.g. v′ and v′ − γv′ᵀv′) in the complex plane, with the boundaries
    /// |R(z)| = 1 of the given schemes' stability regions (each scheme converges locally iff every
    /// h·λ lies inside its region).
    public static func spectrum(_ sets: [(label: String, eigenvalues: [Complex<Double>])], h: Double,
                                schemes: [any Scheme], title: String = "Eigenvalues of h·v′ and stability regions |R(z)| ≤ 1") -> Plot {
        var plot = Plot(title: title, xLabel: "Re(hλ)", yLabel: "Im(hλ)")
        plot.equalAspect = true
        plot.notes = ["h = \(h); a scheme converges locally iff every hλ lies inside its region"]
        let points = sets.flatMap { $0.eigenvalues }.map { (h * $0.real, h * $0.imaginary) }.filter { $0.0.isFinite && $0.1.isFinite }
        // Window: the eigenvalues and the regions' natural scale (RK4 reaches Re z ≈ −2.8).
        var x0 = -3.0, x1 = 2.2, y0 = -3.0, y1 = 3.0
        for p in points { x0 = min(x0, p.0); x1 = max(x1, p.0); y0 = min(y0, p.1); y1 = max(y1, p.1) }
        let padX = 0.05 * (x1 - x0), padY = 0.05 * (y1 - y0)
        let xr = (x0 - padX)...(x1 + padX), yr = (y0 - padY)...(y1 + padY)
        let colors = ["#7f7f7f", "#2ca02c", "#9467bd", "#17becf", "#8c564b", "#bcbd22"]
        var k = 0
        for s in schemes where s.stabilityFunction(Complex(0)) != nil {
            let segs = contourSegments(xRange: xr, yRange: yr, resolution: 240) { x, y in
                (s.stabilityFunction(Complex(x, y))?.length ?? .nan) - 1
            }
            let outside = (s.stabilityFunction(Complex(-1e3))?.length ?? 2) < 1
            plot.add("|R(z)| = 1: \(s.name)" + (outside ? " (stable outside)" : ""), .segments(segs), color: colors[k % colors.count])
            k += 1
        }
        let far = 10 * max(xr.upperBound - xr.lowerBound, yr.upperBound - yr.lowerBound)
        plot.add(nil, .line([(-far, 0), (far, 0)], dashed: true), color: "#bbbbbb")
        plot.add(nil, .line([(0, -far), (0, far)], dashed: true), color: "#bbbbbb")
        let markers: [Plot.Marker] = [.circle, .cross, .diamond, .square]
        let markerColors = ["#1f77b4", "#d62728", "#ff7f0e", "#e377c2"]
        for (i, set) in sets.enumerated() {
            plot.add("hλ of \(set.label)", .markers(set.eigenvalues.map { (h * $0.real, h * $0.imaginary) }, markers[i % markers.count]),
                     color: markerColors[i % markerColors.count])
        }
        plot.xRange = xr
        plot.yRange = yr
        return plot
    }

    /// The view of a mixture's samples: ±(1.6 × the farthest mode + 6σ), a square.
    static func mixtureExtent(_ mixture: GaussianMixture) -> Double {
        (mixture.means.map { max(abs($0.0), abs($0.1)) }.max() ?? 1) * 1.6 + 6 * mixture.sigma
    }

    static func coverageNote(_ samples: [Double], _ mixture: GaussianMixture) -> String {
        let m = ModeCoverage(samples: samples, mixture: mixture)
        return "\(mixture.name): \(m.modesCaptured)/\(mixture.means.count) modes, high-quality "
            + String(format: "%.3f, KL %.3f", m.highQualityFraction, m.klModes)
    }

    /// Figure 2 of the paper: the samples (x, y pairs, flattened) as a density — a 100 × 100
    /// histogram over the view, shaded by log(1 + count) so that unequal mass per mode shows —
    /// with the target modes marked. Samples outside the view are counted in a note.
    public static func sampleDensity(_ samples: [Double], mixture: GaussianMixture, title: String, bins: Int = 100) -> Plot {
        let e = mixtureExtent(mixture)
        return density(samples, x: -e...e, y: -e...e, marks: ("target modes", .markers(mixture.means, .cross)),
                       note: coverageNote(samples, mixture), title: title, bins: bins)
    }

    /// The density of 2-D samples against the user's 2-D data (its points drawn as dots, up to
    /// 2,000), over the data's bounding box widened by a quarter.
    public static func sampleDensity(_ samples: [Double], data: Dataset, title: String, bins: Int = 100) -> Plot {
        let (x, y) = dataView(data)
        return density(samples, x: x, y: y, marks: ("data (\(min(data.count, 2000)) of \(data.count) points)", .dots(dataPoints(data))),
                       note: data.name, title: title, bins: bins)
    }

    /// The samples as a scatter (the first 4,000), with the target modes marked.
    public static func sampleScatter(_ samples: [Double], mixture: GaussianMixture, title: String) -> Plot {
        let e = mixtureExtent(mixture)
        return scatter(samples, x: -e...e, y: -e...e, marks: ("target modes", .markers(mixture.means, .cross)),
                       note: coverageNote(samples, mixture), title: title)
    }

    /// The samples as a scatter next to the user's 2-D data.
    public static func sampleScatter(_ samples: [Double], data: Dataset, title: String) -> Plot {
        let (x, y) = dataView(data)
        return scatter(samples, x: x, y: y, marks: ("data", .dots(dataPoints(data))), note: data.name, title: title)
    }

    static func dataView(_ data: Dataset) -> (ClosedRange<Double>, ClosedRange<Double>) {
        let xs = stride(from: 0, to: data.points.count, by: 2).map { data.points[$0] }
        let ys = stride(from: 1, to: data.points.count, by: 2).map { data.points[$0] }
        func widen(_ v: [Double]) -> ClosedRange<Double> {
            let lo = v.min() ?? -1, hi = v.max() ?? 1, pad = max(0.25 * (hi - lo), 1e-9)
            return (lo - pad)...(hi + pad)
        }
        return (widen(xs), widen(ys))
    }

    static func dataPoints(_ data: Dataset) -> [(Double, Double)] {
        let n = data.count, take = min(n, 2000)
        return (0..<take).map { k in let r = k * n / take; return (data.points[2 * r], data.points[2 * r + 1]) }
    }

    static func density(_ samples: [Double], x: ClosedRange<Double>, y: ClosedRange<Double>, marks: (String, Plot.Kind),
                        note: String, title: String, bins: Int) -> Plot {
        var plot = Plot(title: title, xLabel: "x", yLabel: "y")
        plot.equalAspect = true
        plot.xRange = x
        plot.yRange = y
        var hist = Plot.Histogram2D(x: x, y: y, nx: bins, ny: bins)
        for r in 0..<(samples.count / 2) { hist.add(samples[2 * r], samples[2 * r + 1]) }
        plot.add("density (\(bins)×\(bins) cells, shade ∝ log(1 + count))", .heatmap(hist), color: "#08306b")
        plot.add(marks.0, marks.1, color: "#d62728")
        plot.notes = ["\(samples.count / 2) samples; " + note + (hist.outside > 0 ? "; \(hist.outside) sample\(hist.outside == 1 ? "" : "s") outside the view" : "")]
        return plot
    }

    static func scatter(_ samples: [Double], x: ClosedRange<Double>, y: ClosedRange<Double>, marks: (String, Plot.Kind),
                        note: String, title: String) -> Plot {
        var plot = Plot(title: title, xLabel: "x", yLabel: "y")
        plot.equalAspect = true
        plot.xRange = x
        plot.yRange = y
        let shown = min(samples.count / 2, 4000)
        plot.add("generator samples (\(shown) of \(samples.count / 2))", .dots((0..<shown).map { (samples[2 * $0], samples[2 * $0 + 1]) }),
                 color: "#1f77b4")
        plot.add(marks.0, marks.1, color: "#d62728")
        plot.notes = [note]
        return plot
    }

    /// A phase portrait of a 2-D game: v as arrows on a grid ("vector field"), the exact flow
    /// from the start ("flow", drawn last), and each scheme's discrete iterates (cut where they
    /// leave 3× the flow's extent, and labelled so).
    public static func phasePortrait<G: Game>(_ game: G, flow: [[Double]]?, iterates: [(label: String, states: [[Double]])],
                                              title: String) -> Plot {
        precondition(game.dimension == 2, "phase portraits are for 2-D games")
        let names = game.coordinateNames
        var plot = Plot(title: title, xLabel: (names?[0] ?? "x₀") + " (player 1)", yLabel: (names?[1] ?? "x₁") + " (player 2)")
        plot.equalAspect = true
        // The view: the flow, the equilibrium and the starts, widened to take in iterates that stay
        // within 3× that extent; an iterate sequence that leaves it (a diverging scheme) is cut
        // where it leaves and says so in the legend, so the others are not shrunk to a dot.
        func finite(_ p: [Double]) -> Bool { p[0].isFinite && p[1].isFinite }
        var base = (flow ?? []) + iterates.compactMap { $0.states.first }
        if let eq = game.equilibrium { base.append(eq) }
        base = base.filter(finite)
        let bx = base.map { $0[0] }, by = base.map { $0[1] }
        let cx = ((bx.min() ?? 0) + (bx.max() ?? 0)) / 2, cy = ((by.min() ?? 0) + (by.max() ?? 0)) / 2
        let half = max(((bx.max() ?? 1) - (bx.min() ?? -1)) / 2, ((by.max() ?? 1) - (by.min() ?? -1)) / 2, 1e-6)
        func inView(_ p: [Double]) -> Bool { finite(p) && abs(p[0] - cx) <= 3 * half && abs(p[1] - cy) <= 3 * half }
        let shown: [(label: String, states: [[Double]], clipped: Bool)] = iterates.map { it in
            let kept = Array(it.states.prefix { inView($0) })
            return (it.label, kept, kept.count < it.states.count)
        }
        let pts = base + shown.flatMap { $0.states }
        var x0 = pts.map { $0[0] }.min() ?? -1, x1 = pts.map { $0[0] }.max() ?? 1
        var y0 = pts.map { $0[1] }.min() ?? -1, y1 = pts.map { $0[1] }.max() ?? 1
        let span = max(x1 - x0, y1 - y0, 1e-6)
        x0 -= 0.1 * span; x1 += 0.1 * span; y0 -= 0.1 * span; y1 += 0.1 * span
        // Arrows of a fixed length (direction) on a 17×17 grid; v's size is in the arrow's shade.
        let n = 17, cell = max(x1 - x0, y1 - y0) / Double(n)
        var arrows: [(x: Double, y: Double, dx: Double, dy: Double)] = []
        var v = [0.0, 0.0]
        for i in 0...n {
            for j in 0...n {
                let x = x0 + (x1 - x0) * Double(i) / Double(n), y = y0 + (y1 - y0) * Double(j) / Double(n)
                game.evaluate(at: [x, y], step: 0, into: &v)
                let len = (v[0] * v[0] + v[1] * v[1]).squareRoot()
                guard len > 0, len.isFinite else { continue }
                arrows.append((x, y, 0.7 * cell * v[0] / len, 0.7 * cell * v[1] / len))
            }
        }
        plot.add("vector field v(x) (direction)", .arrows(arrows), color: "#b0b0b0")
        for (k, it) in shown.enumerated() {
            let style = schemeStyle(it.label, index: k)
            plot.add("iterates: \(it.label)" + (it.clipped ? " (leaves the view: cut)" : ""),
                     .lineWithMarkers(it.states.map { ($0[0], $0[1]) }, style.marker), color: style.color)
        }
        // The flow last, so that it is drawn on top of the iterates (RK4's ring hid it).
        if let flow {
            plot.add("flow: dx/dt = v(x) (GSL rk8pd, rtol 1e-10)", .line(flow.map { ($0[0], $0[1]) }), color: "#000000")
        }
        if let eq = game.equilibrium { plot.add("equilibrium", .markers([(eq[0], eq[1])], .cross), color: "#000000") }
        return plot
    }

    /// One curve of a convergence figure: curves of the same `group` share a colour (one
    /// scheme), `dashed` tells its quantities apart (e.g. ‖v‖ solid, distance dashed).
    public struct Curve: Sendable {
        /// The legend entry.
        public var label: String
        /// The x values (step indices).
        public var steps: [Int]
        /// The y values (drawn on a log axis).
        public var values: [Double]
        /// Curves of one run share a group (and a colour when no scheme is named).
        public var group: Int
        /// The scheme the curve belongs to (its colour is that scheme's in every figure).
        public var scheme: String?
        /// Draw dashed (distance to equilibrium next to ‖v‖).
        public var dashed: Bool
        /// A curve; `scheme` (a command-line name) picks its colour from `schemeStyle`.
        public init(label: String, steps: [Int], values: [Double], group: Int = 0, dashed: Bool = false, scheme: String? = nil) {
            self.scheme = scheme
            self.label = label
            self.steps = steps
            self.values = values
            self.group = group
            self.dashed = dashed
        }
    }

    /// Convergence curves versus step on a log scale (e.g. ‖v‖ and distance to equilibrium).
    /// One colour and marker per scheme in every figure: a label that starts with a scheme's
    /// command-line name ("simga", "consensus γ=0.5", …) gets that scheme's; others go by `index`.
    public static func schemeStyle(_ label: String, index: Int) -> (color: String, marker: Plot.Marker) {
        let markers: [Plot.Marker] = [.circle, .square, .diamond, .cross]
        let names = SchemeName.allCases.enumerated().sorted { $0.element.rawValue.count > $1.element.rawValue.count }
        let k = names.first { label.hasPrefix($0.element.rawValue) }?.offset ?? index
        return (Plot.palette[k % Plot.palette.count], markers[k % markers.count])
    }

    /// Convergence curves against the step on a log axis (‖v‖ and the distance to equilibrium), one colour per scheme.
    public static func convergence(_ curves: [Curve], title: String,
                                   yLabel: String = "‖v(x)‖₂ and ‖x − x̄‖₂ (log scale)") -> Plot {
        var plot = Plot(title: title, xLabel: "step", yLabel: yLabel)
        plot.yScale = .log
        for c in curves {
            plot.add(c.label, .line(zip(c.steps, c.values).map { (Double($0), $1) }, dashed: c.dashed),
                     color: schemeStyle(c.scheme ?? "", index: c.group).color)
        }
        return plot
    }

    /// The exact flow from x0 over `time` at `substeps + 1` equally spaced times, by GSL's rk8pd
    /// with error control (rtol 1e-10; stops early if the flow leaves the finite range).
    public static func flow<G: Game>(_ game: G, from x0: [Double], time: Double, substeps: Int) -> [[Double]] {
        guard substeps >= 1, time > 0 else { return [x0] }
        let times = (0...substeps).map { time * Double($0) / Double(substeps) }
        // GSL's rk8pd with error control; where it fails (v blows up), the states reached.
        guard let s = try? integrateFlow(game, from: x0, times: times,
                                         options: FlowOptions(method: .rk8pd, relativeTolerance: 1e-10, maxSteps: 100_000))
        else { return [x0] }
        return s.states
    }
}
