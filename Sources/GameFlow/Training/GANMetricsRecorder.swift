import Foundation

/// What `GANMetricsRecorder` measures at a step: the mode metrics (mixtures only), the energy
/// distance of 10,000 generator samples to the data (1,000 points a side), ‖v‖ and the two
/// utilities, all on the evaluation batch (`NetworkGAN.evaluationStep`).
public struct GANMetrics: Sendable {
    /// Modes captured, high-quality fraction and KL (nil for a data set that is no mixture).
    public var coverage: ModeCoverage?
    /// The energy distance between 1,000 generator samples and 1,000 reference points.
    public var energyDistance: Double
    /// ‖v‖ at the evaluation batch.
    public var vectorFieldNorm: Double
    /// The utilities f (discriminator) and g (generator) at the evaluation batch.
    public var utilities: (discriminator: Double, generator: Double)
    /// FID, KID and the classifier score (with an `ImageQuality`; nil otherwise).
    public var quality: (fid: Double, kid: Double, score: Double)? = nil
}

/// A `RunObserver` for MLP GAN training: metrics every `every` steps, at the `snapshots` steps and
/// at the end (`last` holds the latest), streamed as rows of `metrics.csv` in `output`, and at the
/// snapshots (and the end) the samples as `samples-STEP.csv` and, for 2-D data, the density
/// (`density-STEP.svg`) and scatter (`scatter-STEP.svg`) figures of the paper's Figure 2.
///
/// A row is written whole or not at all (a full disk cuts the file back to its last complete
/// row). A resumed run (`resumedAt`) keeps the rows before its checkpoint and writes the
/// checkpoint step's row only where the original run would have, so its metrics.csv is the
/// uninterrupted run's.
public final class GANMetricsRecorder: RunObserver {
    /// The game measured (samples, utilities; ‖v‖ unless `fieldNorm` says otherwise).
    public let game: any GANGame
    /// Steps between metrics.
    public let every: Int
    /// Steps with a snapshot (samples and figures).
    public let snapshots: Set<Int>
    /// The run's total steps (figure titles).
    public let totalSteps: Int
    /// The folder of metrics.csv and the snapshots (nil: measure only).
    public let output: String?
    /// ‖v‖ at the evaluation batch for a state (default: `game`'s).
    public let fieldNorm: ([Double]) -> Double
    /// The latest metrics.
    public private(set) var last: GANMetrics?
    /// FID, KID and classifier score at every measurement (columns fid, kid, classifier_score).
    public let quality: ImageQuality?

    /// Samples drawn for the metrics and snapshots (points).
    public static let evaluationSamples = 10_000
    /// Samples drawn for the metrics and snapshots (images: a generator pass per image costs
    /// thousands of times a point's).
    public static let evaluationImages = 1_000
    /// The seed of those samples (the same every time: metrics compare across steps).
    public static let sampleSeed: UInt64 = 0xE7A1
    /// metrics.csv's header.
    public static let header = "step,modes_captured,high_quality_fraction,kl_modes,energy_distance,vector_field_norm,discriminator_loss,generator_loss,seconds\n"

    /// The header, with fid, kid and classifier_score at the end when image quality is measured.
    public static func header(quality: Bool) -> String { quality ? header.dropLast() + ",fid,kid,classifier_score\n" : header }

    private let schedule: EveryNSteps
    private var file: FileHandle?
    private let reference: [Double]
    private let startRow: Bool

    /// A recorder of `game`'s metrics every `every` steps and at `snapshots`, into `output`.
    /// `resumedAt`: the checkpoint step of a resumed run, and whether the run is extended past
    /// its old end (then that end's row is kept as history).
    public init(game: any GANGame, every: Int, snapshots: Set<Int>, totalSteps: Int, output: String?,
                resumedAt: (step: Int, extending: Bool)? = nil, fieldNorm: (([Double]) -> Double)? = nil,
                quality: ImageQuality? = nil) throws {
        self.game = game
        self.quality = quality
        self.every = max(1, every)
        self.snapshots = snapshots
        self.totalSteps = totalSteps
        self.output = output
        self.fieldNorm = fieldNorm ?? { norm2(game.vectorField(at: $0, step: NetworkGAN.evaluationStep)) }
        self.reference = Self.referencePoints(game.source)
        if let r = resumedAt {
            startRow = (r.step % self.every == 0 || snapshots.contains(r.step)) && !r.extending
        } else {
            startRow = true
        }
        schedule = EveryNSteps(self.every, at: snapshots) { _, _ in }
        if let dir = output {
            file = try Self.openMetrics(joinPath(dir, "metrics.csv"), keepingBefore: resumedAt.map { $0.extending ? $0.step + 1 : $0.step },
                                        header: Self.header(quality: quality != nil))
        }
    }

    deinit { try? file?.close() }

    public func observe(_ event: RunEvent, checkpoint: () -> Checkpoint) throws {
        guard schedule.isDue(event) else { return }
        if event.kind == .start {
            last = try measure(event.state, step: event.step, seconds: event.trainingSeconds, snapshot: snapshots.contains(event.step), row: startRow)
        } else {
            last = try measure(event.state, step: event.step, seconds: event.trainingSeconds, snapshot: event.status != nil || snapshots.contains(event.step))
        }
    }

    /// Measures at `x` (and writes the row and, if asked, the snapshot).
    @discardableResult
    public func measure(_ x: [Double], step: Int, seconds trainingSeconds: Double, snapshot: Bool, row: Bool = true) throws -> GANMetrics {
        let d = game.dataDimension
        // The evaluation samples, and more when FID/KID ask for more (the first ones are the same).
        let base = game.isImageData ? Self.evaluationImages : Self.evaluationSamples
        let samples = game.samples(at: x, count: max(base, quality?.samples ?? 0), sampleSeed: Self.sampleSeed)
        let first = samples.count == base * d ? samples : Array(samples.prefix(base * d))
        var m = GANMetrics(coverage: game.data.map { ModeCoverage(samples: first, mixture: $0) },
                           energyDistance: energyDistance(first, reference, dimension: d), vectorFieldNorm: fieldNorm(x),
                           utilities: game.utilities(at: x, step: NetworkGAN.evaluationStep))
        if let q = quality { m.quality = q.measure(Array(samples.prefix(q.samples * d))) }
        if let h = file, row, let dir = output {
            let modes = m.coverage.map { [String($0.modesCaptured), csvNumber($0.highQualityFraction), csvNumber($0.klModes)] } ?? ["", "", ""]
            let fields = [String(step)] + modes + [csvNumber(m.energyDistance), csvNumber(m.vectorFieldNorm),
                                                   csvNumber(-m.utilities.discriminator), csvNumber(-m.utilities.generator), csvNumber(trainingSeconds)]
                + (m.quality.map { [csvNumber($0.fid), csvNumber($0.kid), csvNumber($0.score)] } ?? [])
            try appendRow(fields.joined(separator: ",") + "\n", to: h, path: joinPath(dir, "metrics.csv"))
        }
        if let dir = output, snapshot, game.isImageData {
            // An 8×8 grid of the first 64 samples (the same latents every time).
            try writeAtomically(PNGImage.grid(samples, shape: game.sampleShape, rows: 8, columns: 8), to: joinPath(dir, "samples-\(step).png"))
        } else if let dir = output, snapshot {
            var csv = (d == 2 ? "x,y" : (0..<d).map { "x\($0)" }.joined(separator: ",")) + "\n"
            for r in 0..<(samples.count / d) { csv += (0..<d).map { csvNumber(samples[d * r + $0]) }.joined(separator: ",") + "\n" }
            try writeAtomically(csv, to: joinPath(dir, "samples-\(step).csv"))
            if d == 2 {
                try writeAtomically(densityFigure(samples, step: step).svg(), to: joinPath(dir, "density-\(step).svg"))
                try writeAtomically(scatterFigure(samples, step: step).svg(), to: joinPath(dir, "scatter-\(step).svg"))
            }
        }
        return m
    }

    /// metrics.csv: a new file with its header, or, when resuming from step k, the existing
    /// file with rows of steps < k kept (rows written after the checkpoint are computed again).
    static func openMetrics(_ path: String, keepingBefore step: Int?, header: String = header) throws -> FileHandle {
        var contents = header
        if let step, let old = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in old.split(separator: "\n").dropFirst() {
                guard let first = line.split(separator: ",").first, let s = Int(first), s < step else { continue }
                contents += line + "\n"
            }
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(contents.utf8)), let h = FileHandle(forWritingAtPath: path) else {
            throw GameFlowError.invalidInput("cannot write '\(path)'")
        }
        h.seekToEndOfFile()
        return h
    }

    /// Figure 2: the generator's samples as a density (2-D histogram) with the target modes marked.
    private func densityFigure(_ samples: [Double], step: Int) -> Plot {
        let title = "Generator density at step \(step) of \(totalSteps)"
        if let m = game.data { return Figures.sampleDensity(samples, mixture: m, title: title) }
        return Figures.sampleDensity(samples, data: game.source as! Dataset, title: title)
    }

    /// The same samples as a scatter (up to 4,000 points).
    private func scatterFigure(_ samples: [Double], step: Int) -> Plot {
        let title = "Generator samples at step \(step) of \(totalSteps)"
        if let m = game.data { return Figures.sampleScatter(samples, mixture: m, title: title) }
        return Figures.sampleScatter(samples, data: game.source as! Dataset, title: title)
    }

    /// 1,000 points of the target to measure the energy distance against: the data's rows
    /// evenly spaced, or samples of the mixture from a fixed seed.
    public static func referencePoints(_ source: any SampleSource) -> [Double] {
        let d = source.dimension, m = 1000
        if let images = source as? ImageDataset {
            // Images evenly spaced through the set.
            let n = images.count, take = min(n, m)
            var out = [Double](repeating: 0, count: take * d)
            out.withUnsafeMutableBufferPointer { o in for k in 0..<take { images.image(k * n / take, into: o.baseAddress! + k * d) } }
            return out
        }
        if let data = source as? Dataset {
            let n = data.count, take = min(n, m)
            var out: [Double] = []
            out.reserveCapacity(take * d)
            for k in 0..<take { let r = k * n / take; out += data.points[(r * d)..<((r + 1) * d)] }
            return out
        }
        var out = [Double](repeating: 0, count: m * d)
        var rng = SeededGenerator(seed: sampleSeed, stream: -4)
        out.withUnsafeMutableBufferPointer { source.sample(m, into: $0.baseAddress!, rng: &rng) }
        return out
    }
}
