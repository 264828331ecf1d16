import ArgumentParser
import Foundation
import GameFlow

struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Overlay one metric of several train runs (schemes, seeds) in one figure.",
        discussion: """
            One colour per scheme, as in every GameFlow figure; each run labelled by its scheme,
            knobs and seed (from its summary.json, else its folder name).
              gameflow plot runs/simga-* runs/consensus-* --metric fid --x seconds --output fid.svg
            """)

    @Argument(help: "Run folders (gameflow train --output), each with a metrics.csv.") var runs: [String]
    @Option(help: "The metrics.csv column to draw (e.g. vector_field_norm, fid, energy_distance).") var metric: String
    @Option(help: "The horizontal axis: step or seconds (training time).") var x: String = "step"
    @Flag(name: .customLong("linear"), help: "A linear vertical axis (default: log where every value is positive).") var linear = false
    @Option(help: "The SVG file to write.") var output: String
    @Flag(help: "No notes on stderr.") var quiet = false

    func run() throws {
        guard !runs.isEmpty else { throw GameFlowError.invalidInput("give at least one run folder") }
        guard ["step", "seconds"].contains(x) else { throw GameFlowError.invalidInput("--x must be step or seconds (got '\(x)')") }
        guard output.lowercased().hasSuffix(".svg") else { throw GameFlowError.invalidInput("--output must name an .svg file (got '\(output)')") }
        let parent = (output as NSString).deletingLastPathComponent
        guard parent.isEmpty || FileManager.default.fileExists(atPath: parent) else {
            throw GameFlowError.invalidInput("--output's folder '\(parent)' does not exist")
        }
        var tables: [(label: String, table: MetricsTable)] = []
        for dir in runs {
            let table = try MetricsTable.load(run: dir)
            guard table.header.contains(metric) else {
                throw GameFlowError.invalidInput("'\(dir)/metrics.csv' has no column '\(metric)' (it has \(table.metrics.joined(separator: ", ")))")
            }
            tables.append((Self.label(dir), table))
        }
        let positive = tables.allSatisfy { $0.table.series(metric, against: x).allSatisfy { $0.1 > 0 } }
        let plot = Figures.overlay(tables, metric: metric, x: x, log: !linear && positive, title: "\(metric) against \(x == "seconds" ? "training time" : "step") (\(runs.count) run\(runs.count == 1 ? "" : "s"))")
        try writeAtomically(plot.svg(), to: output)
        if !quiet { writeStandardError("wrote \(output)\n") }
    }

    /// "consensus γ=0.1 seed 2" (" float32" before the seed for float32 networks) from the run's
    /// summary.json, else the folder's name.
    static func label(_ dir: String) -> String {
        let name = (dir as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: joinPath(dir, "summary.json")),
              let s = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let scheme = s["scheme"] as? String else { return name }
        var label = scheme
        if let g = s["gamma"] as? Double { label += " γ=\(g)" }
        if let r = s["r1"] as? Double, r > 0 { label += " R1=\(r)" }
        if let c = s["configuration"] as? [String: Any], let p = c["precision"] as? String { label += " " + p }
        if let seed = s["seed"] as? Int { label += " seed \(seed)" }
        return label
    }
}
