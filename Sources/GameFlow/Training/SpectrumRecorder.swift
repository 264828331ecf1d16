import Foundation
import Numerics

/// Eigenvalues along training: a `RunObserver` that every `every` steps (and at the start and
/// end) computes ARPACK's K largest-magnitude and K rightmost eigenvalues of the trained field's
/// Jacobian at the evaluation batch (ARPACK tolerance 1e-8) and appends a row to spectrum.csv:
/// the step, the spectral abscissa and max |Im λ/Re λ| among them, SimGA's largest stable step
/// estimated from them (Lemma 4: h* = min 2|Re λ|/|λ|² over the found λ; empty when one has
/// Re λ ≥ 0), and the eigenvalues themselves, rightmost first.
///
/// A resumed run keeps the rows before its checkpoint, as metrics.csv does.
public final class SpectrumRecorder: RunObserver {
    public let field: any Game
    public let every: Int
    public let count: Int
    public let path: String?
    /// The rows so far (step, abscissa, q, h*): for the figure.
    public private(set) var rows: [(step: Int, abscissa: Double, ratio: Double?, stableStep: Double?)] = []
    private let schedule: EveryNSteps
    private var file: FileHandle?

    /// The header of spectrum.csv.
    public static func header(count k: Int) -> String {
        "step,spectral_abscissa,max_imag_real_ratio,simga_stable_step_estimate,found,"
            + (1...(2 * k)).map { "re_\($0),im_\($0)" }.joined(separator: ",") + "\n"
    }

    /// `field`: the trained field at the evaluation batch (a fixed-batch game).
    public init(field: any Game, every: Int, count: Int, path: String?, resumedAt: Int? = nil) throws {
        guard count >= 1, count <= field.dimension - 2 else {
            throw GameFlowError.invalidInput("top: between 1 and n − 2 = \(field.dimension - 2) eigenvalues (got \(count))")
        }
        guard every >= 1 else { throw GameFlowError.invalidInput("spectrum every: at least 1 step (got \(every))") }
        self.field = field
        self.every = every
        self.count = count
        self.path = path
        schedule = EveryNSteps(every) { _, _ in }
        if let path {
            var contents = Self.header(count: count)
            if let step = resumedAt, let old = try? String(contentsOfFile: path, encoding: .utf8) {
                for line in old.split(separator: "\n").dropFirst() {
                    guard let first = line.split(separator: ",").first, let s = Int(first), s < step else { continue }
                    contents += line + "\n"
                    let f = line.split(separator: ",", omittingEmptySubsequences: false)
                    rows.append((s, Double(f[1]) ?? .nan, Double(f[2]), Double(f[3])))
                }
            }
            guard FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)), let h = FileHandle(forWritingAtPath: path) else {
                throw GameFlowError.invalidInput("cannot write '\(path)'")
            }
            h.seekToEndOfFile()
            file = h
        }
    }

    deinit { try? file?.close() }

    public func observe(_ event: RunEvent, checkpoint: () -> Checkpoint) throws {
        guard schedule.isDue(event) else { return }
        var found: [Complex<Double>] = []
        for target in [EigenvalueTarget.largestMagnitude, .rightmost] {
            let r = try ArnoldiSpectrum.jacobian(field, at: event.state, step: 0, count: count, target: target, tolerance: 1e-8)
            for l in r.eigenvalues where !found.contains(where: { ($0 - l).length <= 1e-9 * max(1, l.length) }) { found.append(l) }
        }
        found.sort { ($0.real, $0.imaginary) > ($1.real, $1.imaginary) }
        let spectrum = Spectrum(eigenvalues: found)
        let abscissa = found.first?.real ?? .nan
        let h = spectrum.maxStableEulerStep
        rows.append((event.step, abscissa, spectrum.maxImagRealRatio, h))
        guard let file, let path else { return }
        var fields = [String(event.step), csvNumber(abscissa), spectrum.maxImagRealRatio.map(csvNumber) ?? "", h.map(csvNumber) ?? "", String(found.count)]
        for k in 0..<(2 * count) {
            if k < found.count { fields += [csvNumber(found[k].real), csvNumber(found[k].imaginary)] } else { fields += ["", ""] }
        }
        try appendRow(fields.joined(separator: ",") + "\n", to: file, path: path)
    }

    /// spectrum.svg: the spectral abscissa, max |Im/Re| and SimGA's estimated largest stable step
    /// against the step, one panel each.
    public func figure(title: String) -> String {
        func panel(_ name: String, _ points: [(Double, Double)], log: Bool) -> Plot {
            var p = Plot(title: name, xLabel: "step", yLabel: name)
            p.height = 260
            if log, let lo = points.map(\.1).min(), let hi = points.map(\.1).max(), lo > 0, hi > 20 * lo { p.yScale = .log }
            p.add(name, .line(points), color: Plot.palette[0])
            return p
        }
        var first = panel("spectral abscissa max Re λ", rows.map { (Double($0.step), $0.abscissa) }, log: false)
        first.title = "\(title): spectral abscissa max Re λ (among the computed)"
        return Plot.panels([first,
                            panel("max |Im λ / Re λ|", rows.compactMap { r in r.ratio.map { (Double(r.step), $0) } }, log: true),
                            panel("SimGA's largest stable step (Lemma 4, estimated)", rows.compactMap { r in r.stableStep.map { (Double(r.step), $0) } }, log: true)])
    }
}
