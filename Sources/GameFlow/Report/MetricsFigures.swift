import Foundation

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
        var p = Plot(title: title, xLabel: x == "seconds" ? "training time (s)" : x, yLabel: metric + (log ? " (log scale)" : ""))
        let values = runs.flatMap { $0.table.series(metric, against: x).map(\.1) }
        if log, let lo = values.min(), let hi = values.max(), lo > 0, hi > 20 * lo { p.yScale = .log }
        for (k, run) in runs.enumerated() {
            let style = schemeStyle(run.label, index: k)
            p.add(run.label, .line(run.table.series(metric, against: x)), color: style.color)
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
