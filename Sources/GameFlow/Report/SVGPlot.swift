import Foundation

/// A small, dependency-free 2-D plot written as a standalone SVG file: axes with ticks and
/// labels (linear or log), a title, a legend, and series drawn as lines, markers, line segments
/// (contours) or arrows. Every series is one `<g class="series">` element, so a reader (or a
/// test) can count them. Non-finite points (and non-positive ones on a log axis) are skipped.
public struct Plot: Sendable {
    /// An axis scale.
    public enum Scale: Sendable {
        /// Linear.
        case linear
        /// Base-10 logarithmic (non-positive values are skipped).
        case log
    }

    /// A point marker.
    public enum Marker: Sendable {
        /// A filled circle.
        case circle
        /// A filled square.
        case square
        /// A diagonal cross.
        case cross
        /// A filled diamond.
        case diamond
    }

    /// How a series is drawn.
    public enum Kind: Sendable {
        /// A polyline through the points (broken at skipped points).
        case line([(Double, Double)], dashed: Bool = false)
        /// One marker per point.
        case markers([(Double, Double)], Marker)
        /// Small translucent dots (many samples).
        case dots([(Double, Double)])
        /// A polyline with a marker at every point (discrete iterates).
        case lineWithMarkers([(Double, Double)], Marker)
        /// Independent segments (e.g. a contour from marching squares).
        case segments([((Double, Double), (Double, Double))])
        /// Arrows from (x, y) to (x + dx, y + dy), in data units.
        case arrows([(x: Double, y: Double, dx: Double, dy: Double)])
        /// A 2-D histogram drawn as shaded cells (darker: more samples; the shade is linear in
        /// log(1 + count), so a mode with 1 % of the mass stays visible next to one with 50 %).
        case heatmap(Histogram2D)
        /// Filled rectangles [x0, x1] × [y0, y1] in data units, each with its own opacity in
        /// (0, 1] (a heatmap over a grid of parameters: one series per class or colour).
        case tiles([(x0: Double, x1: Double, y0: Double, y1: Double, opacity: Double)])
    }

    /// Counts of points on a regular nx × ny grid over [x0, x1] × [y0, y1] (row j from y0 up);
    /// points outside the grid are counted in `outside`.
    public struct Histogram2D: Sendable {
        /// The grid's extent.
        public let x0: Double, x1: Double, y0: Double, y1: Double
        /// Cells across and up.
        public let nx: Int, ny: Int
        /// Row-major: cell (i, j) — column i, row j — at index j·nx + i.
        public private(set) var counts: [Int]
        /// Points that fell outside the grid.
        public private(set) var outside = 0

        /// An empty nx × ny grid over x × y.
        public init(x: ClosedRange<Double>, y: ClosedRange<Double>, nx: Int, ny: Int) {
            (x0, x1, y0, y1) = (x.lowerBound, x.upperBound, y.lowerBound, y.upperBound)
            (self.nx, self.ny) = (max(1, nx), max(1, ny))
            counts = [Int](repeating: 0, count: self.nx * self.ny)
        }

        /// Counts one point (in `outside` when it is off the grid or not finite).
        public mutating func add(_ x: Double, _ y: Double) {
            let fx = (x - x0) / (x1 - x0), fy = (y - y0) / (y1 - y0)
            guard fx.isFinite, fy.isFinite, fx >= 0, fx <= 1, fy >= 0, fy <= 1 else { outside += 1; return }
            let i = min(nx - 1, Int(fx * Double(nx))), j = min(ny - 1, Int(fy * Double(ny)))
            counts[j * nx + i] += 1
        }

        /// Every point added.
        public var total: Int { counts.reduce(0, +) + outside }
    }

    /// One drawn series: its legend name, how it is drawn and its colour.
    public struct Series: Sendable {
        /// The legend entry (nil: none).
        public var name: String?
        /// How it is drawn.
        public var kind: Kind
        /// A CSS colour.
        public var color: String
        /// A series.
        public init(name: String?, kind: Kind, color: String) {
            self.name = name
            self.kind = kind
            self.color = color
        }
    }

    /// The title, above the plot.
    public var title: String
    /// The x axis label.
    public var xLabel: String
    /// The y axis label.
    public var yLabel: String
    /// The x axis scale.
    public var xScale: Scale = .linear
    /// The y axis scale.
    public var yScale: Scale = .linear
    /// The x range shown (nil: the data's).
    public var xRange: ClosedRange<Double>?
    /// The y range shown (nil: the data's).
    public var yRange: ClosedRange<Double>?
    /// Same data units per pixel on both axes (complex plane, phase portraits).
    public var equalAspect = false
    /// Width in pixels, before the legend.
    public var width = 720.0
    /// Height in pixels.
    public var height = 540.0
    /// The series, drawn in order (the last on top).
    public var series: [Series] = []
    /// Extra lines under the title (e.g. the equilibrium, the parameters).
    public var notes: [String] = []
    /// The y axis's ticks at these positions with these labels, instead of computed ones (a
    /// categorical axis: grid values drawn at equal spacing).
    public var yTicks: [(position: Double, label: String)]?

    /// An empty plot.
    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// A palette that stays distinguishable for up to ten series.
    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                 "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]

    /// Adds a series (colour: the next of the palette unless given).
    public mutating func add(_ name: String?, _ kind: Kind, color: String? = nil) {
        series.append(Series(name: name, kind: kind, color: color ?? Plot.palette[series.count % Plot.palette.count]))
    }

    // MARK: - Rendering

    private struct Frame {
        let left = 78.0, bottom = 58.0
        var right = 24.0
        var top = 48.0
    }

    private var legendWidth: Double {
        let names = series.compactMap(\.name).filter { !$0.isEmpty }
        guard let longest = names.map(\.count).max() else { return 0 }
        return 42 + 7.0 * Double(longest)
    }

    /// The plot as a standalone SVG document.
    public func svg() -> String {
        var frame = Frame()
        frame.top += 16 * Double(notes.count)
        // The legend sits right of the plot area, so it never hides data.
        frame.right += legendWidth
        let width = self.width + legendWidth
        let (xr, yr) = ranges(frame: frame)
        let pw = width - frame.left - frame.right, ph = height - frame.top - frame.bottom
        func tx(_ x: Double) -> Double {
            let (a, b, v) = xScale == .log ? (log10(xr.lowerBound), log10(xr.upperBound), log10(x)) : (xr.lowerBound, xr.upperBound, x)
            return frame.left + (v - a) / (b - a) * pw
        }
        func ty(_ y: Double) -> Double {
            let (a, b, v) = yScale == .log ? (log10(yr.lowerBound), log10(yr.upperBound), log10(y)) : (yr.lowerBound, yr.upperBound, y)
            return frame.top + ph - (v - a) / (b - a) * ph
        }
        func ok(_ p: (Double, Double)) -> Bool {
            p.0.isFinite && p.1.isFinite && (xScale == .linear || p.0 > 0) && (yScale == .linear || p.1 > 0)
        }
        func f(_ d: Double) -> String { String(format: "%.2f", d) }

        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="13">
            <title>\(xml(title))</title>
            <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="white"/>
            <defs><clipPath id="plotArea"><rect x="\(f(frame.left))" y="\(f(frame.top))" width="\(f(pw))" height="\(f(ph))"/></clipPath></defs>
            <text x="\(f(width / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(xml(title))</text>

            """
        for (k, note) in notes.enumerated() {
            out += "<text x=\"\(f(width / 2))\" y=\"\(f(42 + 16 * Double(k)))\" text-anchor=\"middle\" fill=\"#444\">\(xml(note))</text>\n"
        }
        // Grid, ticks and tick labels.
        out += "<g class=\"axes\" stroke=\"#000\" stroke-width=\"1\">\n"
        for t in ticks(xr, xScale) {
            let x = tx(t)
            out += "<line x1=\"\(f(x))\" y1=\"\(f(frame.top))\" x2=\"\(f(x))\" y2=\"\(f(frame.top + ph))\" stroke=\"#e5e5e5\"/>\n"
            out += "<line x1=\"\(f(x))\" y1=\"\(f(frame.top + ph))\" x2=\"\(f(x))\" y2=\"\(f(frame.top + ph + 5))\"/>\n"
            out += "<text x=\"\(f(x))\" y=\"\(f(frame.top + ph + 19))\" text-anchor=\"middle\" stroke=\"none\">\(xml(tickLabel(t, xScale)))</text>\n"
        }
        for (t, label) in yTicks ?? ticks(yr, yScale).map({ ($0, tickLabel($0, yScale)) }) {
            let y = ty(t)
            out += "<line x1=\"\(f(frame.left))\" y1=\"\(f(y))\" x2=\"\(f(frame.left + pw))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>\n"
            out += "<line x1=\"\(f(frame.left - 5))\" y1=\"\(f(y))\" x2=\"\(f(frame.left))\" y2=\"\(f(y))\"/>\n"
            out += "<text x=\"\(f(frame.left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\" stroke=\"none\">\(xml(label))</text>\n"
        }
        out += "<rect x=\"\(f(frame.left))\" y=\"\(f(frame.top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\"/>\n</g>\n"
        out += "<text x=\"\(f(frame.left + pw / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\">\(xml(xLabel))</text>\n"
        out += "<text transform=\"translate(18 \(f(frame.top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(xml(yLabel))</text>\n"

        // Series, clipped to the plot area.
        for s in series {
            out += "<g class=\"series\" data-name=\"\(xml(s.name ?? ""))\" clip-path=\"url(#plotArea)\">\n"
            switch s.kind {
            case .line(let pts, let dashed):
                out += polyline(pts, ok: ok, tx: tx, ty: ty, color: s.color, dashed: dashed)
            case .markers(let pts, let m):
                for p in pts where ok(p) { out += marker(m, tx(p.0), ty(p.1), s.color) }
            case .dots(let pts):
                out += "<g fill=\"\(s.color)\" fill-opacity=\"0.35\">\n"
                for p in pts where ok(p) { out += "<circle cx=\"\(f(tx(p.0)))\" cy=\"\(f(ty(p.1)))\" r=\"1.3\"/>\n" }
                out += "</g>\n"
            case .lineWithMarkers(let pts, let m):
                out += polyline(pts, ok: ok, tx: tx, ty: ty, color: s.color, dashed: false, width: 1.2)
                for p in pts where ok(p) { out += marker(m, tx(p.0), ty(p.1), s.color, size: 2.6) }
            case .segments(let segs):
                var d = ""
                for (a, b) in segs where ok(a) && ok(b) { d += "M\(f(tx(a.0))) \(f(ty(a.1)))L\(f(tx(b.0))) \(f(ty(b.1)))" }
                out += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.8\"/>\n"
            case .arrows(let arrows):
                for a in arrows where ok((a.x, a.y)) && ok((a.x + a.dx, a.y + a.dy)) {
                    out += arrow(tx(a.x), ty(a.y), tx(a.x + a.dx), ty(a.y + a.dy), s.color)
                }
            case .heatmap(let hist):
                let top = log1p(Double(hist.counts.max() ?? 0))
                let dx = (hist.x1 - hist.x0) / Double(hist.nx), dy = (hist.y1 - hist.y0) / Double(hist.ny)
                out += "<g class=\"heatmap\" data-outside=\"\(hist.outside)\" fill=\"\(s.color)\">\n"
                for j in 0..<hist.ny {
                    for i in 0..<hist.nx {
                        let c = hist.counts[j * hist.nx + i]
                        guard c > 0 else { continue }
                        let ax = tx(hist.x0 + Double(i) * dx), bx = tx(hist.x0 + Double(i + 1) * dx)
                        let ay = ty(hist.y0 + Double(j + 1) * dy), by = ty(hist.y0 + Double(j) * dy)
                        let shade = 0.12 + 0.88 * log1p(Double(c)) / max(top, 1e-300)
                        out += "<rect class=\"cell\" data-count=\"\(c)\" x=\"\(f(ax))\" y=\"\(f(ay))\" width=\"\(f(bx - ax + 0.3))\" "
                            + "height=\"\(f(by - ay + 0.3))\" fill-opacity=\"\(String(format: "%.3f", shade))\"/>\n"
                    }
                }
                out += "</g>\n"
            case .tiles(let tiles):
                for t in tiles where ok((t.x0, t.y0)) && ok((t.x1, t.y1)) {
                    let ax = tx(t.x0), bx = tx(t.x1), ay = ty(t.y1), by = ty(t.y0)
                    out += "<rect class=\"tile\" x=\"\(f(min(ax, bx)))\" y=\"\(f(min(ay, by)))\" width=\"\(f(abs(bx - ax)))\" "
                        + "height=\"\(f(abs(by - ay)))\" fill=\"\(s.color)\" fill-opacity=\"\(String(format: "%.3f", t.opacity))\" stroke=\"white\"/>\n"
                }
            }
            out += "</g>\n"
        }
        out += legend(frame: frame, pw: pw)
        out += "</svg>\n"
        return out
    }

    private func polyline(_ pts: [(Double, Double)], ok: ((Double, Double)) -> Bool, tx: (Double) -> Double,
                          ty: (Double) -> Double, color: String, dashed: Bool, width: Double = 1.8) -> String {
        var d = "", pen = false
        for p in pts {
            if ok(p) {
                d += (pen ? "L" : "M") + String(format: "%.2f %.2f", tx(p.0), ty(p.1))
                pen = true
            } else { pen = false }
        }
        let dash = dashed ? " stroke-dasharray=\"6 4\"" : ""
        return "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\"\(dash) stroke-linejoin=\"round\"/>\n"
    }

    private func marker(_ m: Marker, _ x: Double, _ y: Double, _ color: String, size r: Double = 4) -> String {
        let X = String(format: "%.2f", x), Y = String(format: "%.2f", y)
        switch m {
        case .circle: return "<circle cx=\"\(X)\" cy=\"\(Y)\" r=\"\(r)\" fill=\"\(color)\" fill-opacity=\"0.85\"/>\n"
        case .square:
            return String(format: "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%@\"/>\n", x - r, y - r, 2 * r, 2 * r, color)
        case .diamond:
            return String(format: "<path d=\"M%.2f %.2fL%.2f %.2fL%.2f %.2fL%.2f %.2fZ\" fill=\"%@\"/>\n",
                          x, y - r * 1.3, x + r * 1.3, y, x, y + r * 1.3, x - r * 1.3, y, color)
        case .cross:
            return String(format: "<path d=\"M%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2f\" stroke=\"%@\" stroke-width=\"2\"/>\n",
                          x - r, y - r, x + r, y + r, x - r, y + r, x + r, y - r, color)
        }
    }

    private func arrow(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ color: String) -> String {
        let dx = x1 - x0, dy = y1 - y0, len = (dx * dx + dy * dy).squareRoot()
        guard len > 0.5 else { return "" }
        let ux = dx / len, uy = dy / len, head = min(6, 0.4 * len)
        let hx1 = x1 - head * (ux + 0.5 * uy), hy1 = y1 - head * (uy - 0.5 * ux)
        let hx2 = x1 - head * (ux - 0.5 * uy), hy2 = y1 - head * (uy + 0.5 * ux)
        return String(format: "<path d=\"M%.2f %.2fL%.2f %.2fM%.2f %.2fL%.2f %.2fL%.2f %.2f\" fill=\"none\" stroke=\"%@\" stroke-width=\"1\"/>\n",
                      x0, y0, x1, y1, hx1, hy1, x1, y1, hx2, hy2, color)
    }

    private func legend(frame: Frame, pw: Double) -> String {
        let named = series.filter { ($0.name ?? "").isEmpty == false }
        guard !named.isEmpty else { return "" }
        let rowH = 18.0
        let w = legendWidth - 12
        let x = frame.left + pw + 12, y = frame.top
        var out = "<g class=\"legend\">\n"
        out += String(format: "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n",
                      x, y, w, rowH * Double(named.count) + 8)
        for (k, s) in named.enumerated() {
            let cy = y + 4 + rowH * (Double(k) + 0.5)
            switch s.kind {
            case .markers(_, let m): out += marker(m, x + 14, cy, s.color)
            case .dots: out += marker(.circle, x + 14, cy, s.color, size: 2.5)
            case .arrows: out += arrow(x + 6, cy, x + 22, cy, s.color)
            case .heatmap, .tiles: out += "<rect x=\"\(x + 6)\" y=\"\(cy - 6)\" width=\"16\" height=\"12\" fill=\"\(s.color)\" fill-opacity=\"0.7\"/>\n"
            case .line(_, let dashed):
                out += String(format: "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%@\" stroke-width=\"2\"%@/>\n",
                              x + 6, cy, x + 22, cy, s.color, dashed ? " stroke-dasharray=\"6 4\"" : "")
            case .lineWithMarkers(_, let m):
                out += String(format: "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%@\" stroke-width=\"1.2\"/>\n", x + 4, cy, x + 24, cy, s.color)
                out += marker(m, x + 14, cy, s.color, size: 2.6)
            case .segments:
                out += String(format: "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%@\" stroke-width=\"2\"/>\n", x + 6, cy, x + 22, cy, s.color)
            }
            out += String(format: "<text x=\"%.2f\" y=\"%.2f\">%@</text>\n", x + 30, cy + 4.5, xml(s.name!))
        }
        return out + "</g>\n"
    }

    // MARK: - Ranges and ticks

    private func dataBounds(_ scale: Scale, _ pick: ((Double, Double)) -> Double) -> ClosedRange<Double>? {
        var lo = Double.infinity, hi = -Double.infinity
        func see(_ p: (Double, Double)) {
            var v = pick(p)
            guard v.isFinite, scale == .linear || v > 0 else { return }
            // The view stays within what its arithmetic can hold: 10^±300 on a log axis (a
            // subnormal 5e-324 once made a tick at 10^−336 = 0), ±1e300 on a linear one (a span
            // of 2e308 is infinite). Points beyond are drawn outside the clipped plot area.
            v = scale == .log ? min(max(v, Self.logFloor), 1 / Self.logFloor) : min(max(v, -Self.linearLimit), Self.linearLimit)
            lo = min(lo, v); hi = max(hi, v)
        }
        for s in series {
            switch s.kind {
            case .line(let pts, _), .markers(let pts, _), .lineWithMarkers(let pts, _), .dots(let pts): pts.forEach(see)
            case .segments(let segs): segs.forEach { see($0.0); see($0.1) }
            case .arrows(let a): a.forEach { see(($0.x, $0.y)); see(($0.x + $0.dx, $0.y + $0.dy)) }
            case .heatmap(let h): see((h.x0, h.y0)); see((h.x1, h.y1))
            case .tiles(let ts): for t in ts { see((t.x0, t.y0)); see((t.x1, t.y1)) }
            }
        }
        return lo <= hi ? lo...hi : nil
    }

    /// The smallest value a log axis shows (its largest is the reciprocal).
    static let logFloor = 1e-300
    /// The largest magnitude a linear axis shows.
    static let linearLimit = 1e300

    private func padded(_ r: ClosedRange<Double>?, _ scale: Scale) -> ClosedRange<Double> {
        guard var r = r else { return scale == .log ? 0.1...10 : -1...1 }
        if scale == .log {
            var a = log10(r.lowerBound), b = log10(r.upperBound)
            if b - a < 1e-9 { a -= 0.5; b += 0.5 }
            let pad = 0.04 * (b - a)
            return pow(10, a - pad)...pow(10, b + pad)
        }
        if r.upperBound - r.lowerBound <= 1e-12 * max(1, abs(r.lowerBound)) {
            let d = max(1, abs(r.lowerBound)) * 0.5
            r = (r.lowerBound - d)...(r.upperBound + d)
        }
        let pad = 0.05 * (r.upperBound - r.lowerBound)
        return (r.lowerBound - pad)...(r.upperBound + pad)
    }

    private func ranges(frame: Frame) -> (ClosedRange<Double>, ClosedRange<Double>) {
        var xr = xRange ?? padded(dataBounds(xScale) { $0.0 }, xScale)
        var yr = yRange ?? padded(dataBounds(yScale) { $0.1 }, yScale)
        if equalAspect, xScale == .linear, yScale == .linear {
            let pw = width + legendWidth - frame.left - frame.right, ph = height - frame.top - frame.bottom
            let xs = (xr.upperBound - xr.lowerBound) / pw, ys = (yr.upperBound - yr.lowerBound) / ph
            if xs > ys {
                let c = (yr.lowerBound + yr.upperBound) / 2, half = xs * ph / 2
                yr = (c - half)...(c + half)
            } else {
                let c = (xr.lowerBound + xr.upperBound) / 2, half = ys * pw / 2
                xr = (c - half)...(c + half)
            }
        }
        return (xr, yr)
    }

    private func ticks(_ r: ClosedRange<Double>, _ scale: Scale) -> [Double] {
        guard r.lowerBound.isFinite, r.upperBound.isFinite, r.upperBound > r.lowerBound else { return [] }
        if scale == .log {
            guard r.lowerBound > 0 else { return [] }
            // Exponents of doubles lie within ±324: the conversions to Int cannot trap.
            let a = Int(max(-330, floor(log10(r.lowerBound)))), b = Int(min(330, ceil(log10(r.upperBound))))
            // Up to three decades, decades alone leave too few ticks: add 2× and 5×.
            let mantissas: [Double] = b - a <= 3 ? [1, 2, 5] : [1]
            let stride = max(1, (b - a) / 8)
            return Swift.stride(from: a, through: b, by: stride).flatMap { e in mantissas.map { $0 * pow(10, Double(e)) } }
                .filter { r.contains($0) }
        }
        let span = r.upperBound - r.lowerBound
        guard span.isFinite else { return [] }
        let raw = span / 7, mag = pow(10, floor(log10(raw)))
        guard mag.isFinite, mag > 0 else { return [] }
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = ceil(r.lowerBound / step) * step, out: [Double] = []
        while t <= r.upperBound + 1e-9 * step {
            out.append(abs(t) < 1e-12 * step ? 0 : t)
            t += step
        }
        return out
    }

    private func tickLabel(_ t: Double, _ scale: Scale) -> String {
        if scale == .log {
            let e = Int(floor(log10(t) + 1e-9)), m = (t / pow(10, Double(e))).rounded()
            if e >= -3 && e <= 3 { return String(format: "%g", m * pow(10, Double(e))) }
            return m == 1 ? "1e\(e)" : "\(Int(m))e\(e)"
        }
        if t == 0 { return "0" }
        if abs(t) >= 1e5 || abs(t) < 1e-3 { return String(format: "%.0e", t) }
        return String(format: "%g", (t * 1e6).rounded() / 1e6)
    }
}

/// Escapes text for XML content and attributes.
func xml(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}

/// Marching squares: the segments of the level set f = 0 over [x0, x1] × [y0, y1] on an n×n grid.
public func contourSegments(xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, resolution n: Int,
                            _ f: (Double, Double) -> Double) -> [((Double, Double), (Double, Double))] {
    let dx = (xRange.upperBound - xRange.lowerBound) / Double(n)
    let dy = (yRange.upperBound - yRange.lowerBound) / Double(n)
    var values = [Double](repeating: 0, count: (n + 1) * (n + 1))
    for j in 0...n { for i in 0...n { values[j * (n + 1) + i] = f(xRange.lowerBound + Double(i) * dx, yRange.lowerBound + Double(j) * dy) } }
    var segs: [((Double, Double), (Double, Double))] = []
    for j in 0..<n {
        for i in 0..<n {
            let x = xRange.lowerBound + Double(i) * dx, y = yRange.lowerBound + Double(j) * dy
            // Corners counter-clockwise from bottom-left.
            let c = [(x, y, values[j * (n + 1) + i]), (x + dx, y, values[j * (n + 1) + i + 1]),
                     (x + dx, y + dy, values[(j + 1) * (n + 1) + i + 1]), (x, y + dy, values[(j + 1) * (n + 1) + i])]
            var crossings: [(Double, Double)] = []
            for e in 0..<4 {
                let a = c[e], b = c[(e + 1) % 4]
                guard a.2.isFinite, b.2.isFinite, (a.2 < 0) != (b.2 < 0) else { continue }
                let t = a.2 / (a.2 - b.2)
                crossings.append((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)))
            }
            if crossings.count == 2 { segs.append((crossings[0], crossings[1])) }
            if crossings.count == 4 { segs.append((crossings[0], crossings[1])); segs.append((crossings[2], crossings[3])) }
        }
    }
    return segs
}
