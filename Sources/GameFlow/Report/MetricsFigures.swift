import Foundation
import Numerics

/// A run's metrics.csv as columns: every field a number or missing (empty).
public struct MetricsTable: Sendable {
    public let header: [String]
    public let rows: [[Double?]]

    /// Parses metrics.csv text (a header line, then one row per measurement).
    /// - Throws: when there is no header or a row has another number of fields.
    public init(csv: String, source: String) throws {
        let lines = csv.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard let first = lines.first else { throw GameFlowError.invalidInput("'\(source)' is empty (no header)") }
        let names = first.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        header = names
        rows = try lines.dropFirst().enumerated().map { k, line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == names.count else {
                throw GameFlowError.invalidInput("'\(source)', line \(k + 2): \(fields.count) fields, the header has \(names.count)")
            }
            return fields.map { Double($0) }
        }
    }

    /// Reads `directory`/metrics.csv.
    public static func load(run directory: String) throws -> MetricsTable {
        let path = joinPath(directory, "metrics.csv")
        guard FileManager.default.fileExists(atPath: path) else { throw GameFlowError.invalidInput("'\(directory)' has no metrics.csv (not a train run folder?)") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw GameFlowError.invalidInput("cannot read '\(path)'") }
        return try MetricsTable(csv: text, source: path)
    }

    /// (x, value) of the rows where both are numbers; x is another column (step, seconds).
    public func series(_ name: String, against x: String = "step") -> [(Double, Double)] {
        guard let j = header.firstIndex(of: name), let i = header.firstIndex(of: x) else { return [] }
        return rows.compactMap { r in
            guard let a = r[i], let b = r[j], a.isFinite, b.isFinite else { return nil }
            return (a, b)
        }
    }

    /// The columns that hold at least one number (the metrics a run has).
    public var metrics: [String] { header.filter { !series($0).isEmpty && $0 != "step" } }
}

extension Figures {
    /// metrics.svg: a run's metrics against the step, one panel each — ‖v‖ (log), the two losses,
    /// the energy distance (log), the mode metrics (mixtures) and the image metrics (FID, KID, log).
    public static func runMetrics(_ table: MetricsTable, title: String) -> String {
        var panels: [Plot] = []
        func panel(_ name: String, _ columns: [(String, String)], log: Bool) {
            let curves = columns.map { ($0.1, table.series($0.0)) }.filter { !$0.1.isEmpty }
            guard !curves.isEmpty else { return }
            // Log scale where the values are positive and span more than a factor of 20 (a
            // narrower range has no decade ticks to read).
            let values = curves.flatMap { $0.1.map(\.1) }
            let useLog = log && values.allSatisfy { $0 > 0 } && values.max()! > 20 * values.min()!
            let short = columns.count == 1 ? columns[0].1 : name
            var p = Plot(title: panels.isEmpty ? "\(title): \(name)" : name, xLabel: "step", yLabel: short + (useLog ? " (log)" : ""))
            p.height = 260
            if useLog { p.yScale = .log }
            for (k, c) in curves.enumerated() { p.add(c.0, .line(c.1), color: Plot.palette[k % Plot.palette.count]) }
            panels.append(p)
        }
        panel("‖v‖ at the evaluation batch", [("vector_field_norm", "‖v‖")], log: true)
        panel("losses", [("discriminator_loss", "discriminator −f"), ("generator_loss", "generator −g")], log: false)
        panel("energy distance to the data", [("energy_distance", "energy distance")], log: true)
        panel("modes", [("modes_captured", "modes captured"), ("high_quality_fraction", "high-quality fraction")], log: false)
        panel("FID and KID (classifier features)", [("fid", "FID"), ("kid", "KID")], log: true)
        panel("classifier score", [("classifier_score", "classifier score")], log: false)
        return Plot.panels(panels)
    }

    /// One metric of several runs against the step or the training seconds, one colour per scheme
    /// (a label that starts with a scheme's name gets that scheme's colour); `log`: a log axis
    /// where the values span more than a factor of 20.
    public static func overlay(_ runs: [(label: String, table: MetricsTable)], metric: String, x: String, log: Bool, title: String) -> Plot {
        let values = runs.flatMap { $0.table.series(metric, against: x).map(\.1) }
        var useLog = false
        if log, let lo = values.min(), let hi = values.max(), lo > 0, hi > 20 * lo { useLog = true }
        var p = Plot(title: title, xLabel: x == "seconds" ? "training time (s)" : x, yLabel: metric + (useLog ? " (log scale)" : ""))
        if useLog { p.yScale = .log }
        // One legend entry per method (the label without its seed); a method's seeds share its
        // line, and a second variant of a scheme (other knobs) is dashed in the scheme's colour.
        var methods: [String] = []
        for (k, run) in runs.enumerated() {
            let method = run.label.replacingOccurrences(of: #" seed \d+$"#, with: "", options: .regularExpression)
            let first = !methods.contains(method)
            if first { methods.append(method) }
            let style = schemeStyle(run.label, index: k)
            let variant = methods.prefix { $0 != method }.filter { schemeStyle($0, index: 0).color == style.color }.count
            let seeds = runs.filter { $0.label.replacingOccurrences(of: #" seed \d+$"#, with: "", options: .regularExpression) == method }.count
            p.add(first ? method + (seeds > 1 ? " (\(seeds) seeds)" : "") : nil,
                  .line(run.table.series(metric, against: x), dashed: variant % 2 == 1),
                  color: variant >= 2 ? Plot.palette[(k + 5) % Plot.palette.count] : style.color)
        }
        return p
    }
}

extension Plot {
    /// Several plots stacked top to bottom in one SVG (each drawn as `svg()` draws it alone).
    public static func panels(_ plots: [Plot]) -> String {
        var offset = 0.0, width = 0.0, body = ""
        for (k, p) in plots.enumerated() {
            // One document: no XML declaration inside, and each panel's clip path its own id.
            var s = p.svg().replacingOccurrences(of: "plotArea", with: "plotArea\(k)")
            if let r = s.range(of: "<?xml"), let end = s[r.upperBound...].range(of: "?>") { s.removeSubrange(r.lowerBound..<end.upperBound) }
            if let r = s.range(of: "<svg ") { s.replaceSubrange(r, with: "<svg x=\"0\" y=\"\(Int(offset))\" ") }
            if let r = s.range(of: "width=\""), let end = s[r.upperBound...].firstIndex(of: "\""), let w = Double(s[r.upperBound..<end]) {
                width = max(width, w)
            }
            body += s
            offset += p.height
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(offset))\" viewBox=\"0 0 \(Int(width)) \(Int(offset))\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body + "</svg>\n"
    }
}

extension Figures {
    /// Figure 3 of "The Numerics of GANs" as two panels, v′ and v′ − γv′ᵀv′, each with equal
    /// scales on both axes (so angles — the ratio |Im λ/Re λ| — read true). The view holds the bulk
    /// (1st to 99th percentiles, widened by half) and the eigenvalues that matter: the three
    /// rightmost and the three with the largest |Im λ/Re λ|; the others are counted in the legend.
    /// Each panel draws the cone |Im λ| = q·|Re λ| of its largest ratio q, and the consensus panel
    /// Lemma 9's bound cone 1/(c + 2ρ²γ) when it applies (`lemma9Bound`).
    public static func eigenvaluePanels(_ plain: [Complex<Double>], _ consensus: [Complex<Double>], gamma: Double, lemma9Bound: Double?,
                                        title: String, note: String) -> String {
        func panel(_ values: [Complex<Double>], label: String, bound: Double?, first: Bool) -> Plot {
            var plot = Plot(title: first ? "\(title): \(label)" : label, xLabel: "Re λ", yLabel: "Im λ")
            plot.equalAspect = true
            plot.height = 480
            let pts = values.filter { $0.real.isFinite && $0.imaginary.isFinite }
            func quantile(_ xs: [Double], _ q: Double) -> Double {
                guard !xs.isEmpty else { return 0 }
                let s = xs.sorted()
                return s[min(s.count - 1, max(0, Int((q * Double(s.count - 1)).rounded())))]
            }
            let re = pts.map(\.real), im = pts.map(\.imaginary)
            var x0 = min(quantile(re, 0.01), 0), x1 = max(quantile(re, 0.99), 0)
            var y0 = min(quantile(im, 0.01), 0), y1 = max(quantile(im, 0.99), 0)
            let wx = max(x1 - x0, 1e-9), wy = max(y1 - y0, 1e-9)
            x0 -= 0.5 * wx; x1 += 0.5 * wx; y0 -= 0.5 * wy; y1 += 0.5 * wy
            func ratio(_ z: Complex<Double>) -> Double { z.real < 0 ? abs(z.imaginary / z.real) : (z.imaginary == 0 ? 0 : .infinity) }
            let matter = Array(pts.sorted { $0.real > $1.real }.prefix(3)) + Array(pts.sorted { ratio($0) > ratio($1) }.prefix(3))
            for z in matter {
                x0 = min(x0, z.real); x1 = max(x1, z.real); y0 = min(y0, z.imaginary); y1 = max(y1, z.imaginary)
            }
            let px = max(0.05 * (x1 - x0), 1e-9), py = max(0.05 * (y1 - y0), 1e-9)
            plot.xRange = (x0 - px)...(x1 + px)
            plot.yRange = (y0 - py)...(y1 + py)
            func inside(_ z: Complex<Double>) -> Bool { z.real >= x0 - px && z.real <= x1 + px && z.imaginary >= y0 - py && z.imaginary <= y1 + py }
            plot.add(nil, .line([(x0 - px, 0), (x1 + px, 0)], dashed: true), color: "#bbbbbb")
            plot.add(nil, .line([(0, y0 - py), (0, y1 + py)], dashed: true), color: "#bbbbbb")
            let q = Spectrum(eigenvalues: pts).maxImagRealRatio
            func cone(_ r: Double, _ name: String, _ color: String) {
                // |Im| = r·|Re| for Re < 0, drawn to the view's left edge (or its top and bottom).
                let left = x0 - px, reach = min(-left, (y1 + py) / max(r, 1e-12), -(y0 - py) / max(r, 1e-12))
                guard reach > 0 else { return }
                plot.add(name, .segments([((0, 0), (-reach, r * reach)), ((0, 0), (-reach, -r * reach))]), color: color)
            }
            if let q, q.isFinite { cone(q, String(format: "|Im λ| = q·|Re λ|, q = %.3g", q), "#2ca02c") }
            if let b = bound { cone(b, String(format: "Lemma 9 bound 1/(c + 2ρ²γ) = %.3g", b), "#9467bd") }
            let out = pts.filter { !inside($0) }
            plot.add("λ (\(pts.count)" + (out.isEmpty ? ")" : ", \(out.count) outside the view)"),
                     .markers(pts.filter(inside).map { ($0.real, $0.imaginary) }, first ? .circle : .cross), color: first ? "#1f77b4" : "#d62728")
            if let rightmost = pts.max(by: { $0.real < $1.real }) {
                plot.notes.append(String(format: "rightmost Re λ = %.4g", rightmost.real) + (first ? "; " + note : ""))
            }
            return plot
        }
        return Plot.panels([panel(plain, label: "v′", bound: nil, first: true),
                            panel(consensus, label: "v′ − γv′ᵀv′ (γ = \(gamma))", bound: lemma9Bound, first: false)])
    }
}
