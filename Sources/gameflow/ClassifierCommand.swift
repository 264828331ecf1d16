import ArgumentParser
import Foundation
import GameFlow

struct ClassifierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classifier",
        abstract: "Train the feature classifier that image metrics (FID, KID, classifier score) use.",
        discussion: """
            A small CNN (conv 32 k4 s2 → relu → conv 64 k4 s2 → relu → dense 128 → relu →
            dense 10) trained as a one-player game: SimGA on −(cross-entropy) with Adam.
              gameflow classifier --data fashion-mnist --output clf/
            Writes classifier.json (architecture, weights, test accuracy) and checkpoint.json;
            the same command on a folder with an unfinished checkpoint continues it.
            """)

    @Option(help: "fashion-mnist (Debian's dataset-fashion-mnist: 60,000 training and 10,000 test images), or training images (IDX/.npy) with --labels, --test-data and --test-labels.")
    var data: String = "fashion-mnist"
    @Option(help: "Training labels (IDX, optionally gzipped), with an image file as --data.") var labels: String?
    @Option(name: .customLong("test-data"), help: "Test images, with an image file as --data.") var testData: String?
    @Option(name: .customLong("test-labels"), help: "Test labels.") var testLabels: String?
    @Option(parsing: .unconditional, help: "Training steps (minibatches).") var steps: Int = 3000
    @Option(parsing: .unconditional, help: "Minibatch size.") var batch: Int = 64
    @Option(parsing: .unconditional, help: "Adam's learning rate.") var lr: Double = 1e-3
    @Option(parsing: .unconditional, help: "Seed: initial weights and every minibatch.") var seed: UInt64 = 0
    @Option(help: "Write classifier.json and checkpoint.json here (required).") var output: String
    @Option(name: .customLong("checkpoint-seconds"), parsing: .unconditional, help: "Write checkpoint.json at least this often.")
    var checkpointSeconds: Double = 10
    @Flag(help: "Print one JSON summary object on stdout.") var json = false
    @Flag(help: "No progress line on stderr.") var quiet = false

    func run() throws {
        guard (1...10_000_000).contains(steps) else { throw GameFlowError.invalidInput("--steps must be between 1 and 10000000 (got \(steps))") }
        guard (1...4096).contains(batch) else { throw GameFlowError.invalidInput("--batch must be between 1 and 4096 (got \(batch))") }
        guard lr.isFinite, lr > 0 else { throw GameFlowError.invalidInput("--lr must be a finite number > 0 (got \(lr))") }
        guard checkpointSeconds.isFinite, checkpointSeconds > 0 else { throw GameFlowError.invalidInput("--checkpoint-seconds must be > 0") }
        try validateCommandOutput(output, command: "classifier")
        let (train, trainLabels, test, testLabelsValues) = try loadData()
        let network = try Network(inputShape: train.shape, layers: FeatureClassifier.defaultLayers(classes: 10), role: "classifier")
        let game = try ClassifierGame(network: network, images: train, labels: trainLabels, batchSize: batch, seed: seed)
        let scheme = Preconditioned(SimGA(), method: .standardAdam)
        let options = SolveOptions(stepSize: lr, maxSteps: steps)
        let checkpointPath = joinPath(output, "checkpoint.json")
        var integrator: Integrator<ClassifierGame, Preconditioned<SimGA>>
        var previousSeconds = 0.0
        if FileManager.default.fileExists(atPath: checkpointPath) {
            let (checkpoint, fields) = try CheckpointFile.load(checkpointPath)
            guard fields["seed"] as? Int == Int(seed), fields["batch"] as? Int == batch, fields["lr"] as? Double == lr else {
                throw GameFlowError.invalidInput("'\(output)' holds a classifier trained with other settings (seed, batch, lr): give another --output")
            }
            integrator = try Integrator(game: game, scheme: scheme, resumingFrom: checkpoint, options: options)
            previousSeconds = fields["training_seconds"] as? Double ?? 0
            if !quiet { writeStandardError("continuing from step \(checkpoint.stepsCompleted)\n") }
        } else {
            integrator = try Integrator(game: game, scheme: scheme, initialState: game.initialState(seed: seed), options: options)
        }
        try createOutputDirectory(output)
        try OutputMarker.claim(output, command: "classifier")
        var progress = ProgressLine(total: steps, startStep: integrator.stepsCompleted, enabled: !quiet)
        let checkpoints = CheckpointWriter(path: checkpointPath, every: checkpointSeconds) { [seed, batch, lr] e in
            [("seed", .int(Int(seed))), ("batch", .int(batch)), ("lr", .number(lr)), ("training_seconds", .number(e.trainingSeconds))]
        }
        let progressObserver = EveryNSteps(1) { e, _ in progress.update(step: e.step) }
        var loop = TrainingLoop(integrator, trainingSeconds: previousSeconds)
        Interrupt.install()
        let interrupted = try loop.run(observers: [checkpoints, progressObserver], shouldStop: { _ in Interrupt.requested })
        Interrupt.uninstall()
        progress.finish()
        integrator = loop.integrator
        if interrupted {
            writeStandardError("gameflow: interrupted (\(Interrupt.signalName)) after step \(integrator.stepsCompleted); continue with the same command\n")
            throw ExitCode(130)
        }
        if let s = integrator.status, !s.isSuccessful { throw GameFlowError.invalidInput("the classifier's training \(s)") }
        let classifier = try FeatureClassifier(network: network, parameters: integrator.state)
        let accuracy = classifier.accuracy(test.images(test.count), labels: testLabelsValues)
        let fields: [(String, JSON)] = [("data", .string(data)), ("test_accuracy", .number(accuracy)), ("test_images", .int(test.count)),
                                        ("steps", .int(integrator.stepsCompleted)), ("batch", .int(batch)), ("lr", .number(lr)),
                                        ("optimizer", .string("adam")), ("seed", .int(Int(seed))), ("seconds", .number(loop.trainingSeconds)),
                                        ("feature_dimension", .int(classifier.featureDimension))]
        try writeAtomically(classifier.json(fields: fields).serialized() + "\n", to: joinPath(output, FeatureClassifier.fileName))
        if json {
            print(JSON.object(fields).serialized())
        } else {
            print(String(format: "classifier: test accuracy %.4f on %d images after %d steps (%.1f s); wrote %@/%@", accuracy, test.count,
                         integrator.stepsCompleted, loop.trainingSeconds, output, FeatureClassifier.fileName))
        }
    }

    /// Training images and labels, test images and labels.
    func loadData() throws -> (ImageDataset, [UInt8], ImageDataset, [UInt8]) {
        if data == "fashion-mnist" {
            guard labels == nil, testData == nil, testLabels == nil else {
                throw GameFlowError.invalidInput("--labels, --test-data and --test-labels go with an image file as --data, not fashion-mnist")
            }
            return (try ImageDataset.fashionMNIST(), try ImageDataset.fashionMNISTLabels(), try ImageDataset.fashionMNIST(test: true),
                    try ImageDataset.fashionMNISTLabels(test: true))
        }
        guard let labels, let testData, let testLabels else {
            throw GameFlowError.invalidInput("an image file as --data needs --labels, --test-data and --test-labels")
        }
        guard FileManager.default.fileExists(atPath: data) else { throw GameFlowError.invalidInput("data file '\(data)' does not exist") }
        guard FileManager.default.fileExists(atPath: testData) else { throw GameFlowError.invalidInput("test data file '\(testData)' does not exist") }
        let train = try ImageDataset.load(path: data), test = try ImageDataset.load(path: testData)
        guard train.shape == test.shape else { throw GameFlowError.invalidInput("training images are \(train.shape), test images \(test.shape)") }
        return (train, try ImageDataset.loadLabels(path: labels), test, try ImageDataset.loadLabels(path: testLabels))
    }
}
