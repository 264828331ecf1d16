import ArgumentParser
import Foundation
import GameFlow

/// Entry point. ArgumentParser's own error output spans several lines (error, usage, help
/// hint); GameFlow's contract is one clear line on stderr, so errors are caught and reported here.
@main
struct Main {
    static func main() {
        BLAS.useSingleThreadUnlessConfigured()
        GSL.initialize()
        // A closed pipe or lost terminal makes writes fail with EPIPE instead of killing the run.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try GameFlowCommand.parseAsRoot(integralArguments(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch {
            finishStandardOutput()
            exitWith(error)
        }
        finishStandardOutput()
    }

    static func exitWith(_ error: Error) -> Never {
        if let e = error as? ExitCode { exit(e.rawValue) }   // the command has said why already
        let code = GameFlowCommand.exitCode(for: error)
        if code == .success {  // --help, --version
            print(GameFlowCommand.fullMessage(for: error))
            finishStandardOutput()
            exit(0)
        }
        if let p = error as? SweepProblems {   // every bad field of a sweep spec, one line each
            for line in p.lines { writeStandardError("gameflow: error: \(line)\n") }
            exit(1)
        }
        var message: String
        if let e = error as? GameFlowError {
            message = e.description
        } else {
            let lines = GameFlowCommand.message(for: error).split(separator: "\n").map(String.init)
            message = lines.first ?? "\(error)"
            // An enumerated option with many values lists them one per line ("- rkf45"): one line.
            if message.hasSuffix("Please provide one of the following:") {
                let values = lines.dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
                message = String(message.dropLast("the following:".count)) + values.joined(separator: ", ") + "."
            }
            // A misspelt flag is what the user needs to hear about, before a missing one
            // ("--stpe 0.1" made "Missing expected argument '--step'").
            if message.hasPrefix("Missing expected argument"), let unknown = unknownOption(in: Array(CommandLine.arguments.dropFirst())) {
                message = "Unknown option '\(unknown)'"
            }
            let subcommand = CommandLine.arguments.dropFirst().first
            if subcommand == "train", message.hasPrefix("Unknown option '--step'") {
                message += " (train's step size is --lr)"
            }
        }
        writeStandardError("gameflow: error: \(message)\n")
        // One documented code for every error (ArgumentParser's usage errors would be 64).
        exit(1)
    }
}

/// The first `--name` in `arguments` that the subcommand (its first word) has no option for,
/// read from the subcommand's own help text (nil when every one is known or there is none).
func unknownOption(in arguments: [String]) -> String? {
    guard let name = arguments.first,
          let command = GameFlowCommand.configuration.subcommands.first(where: { $0._commandName == name }) else { return nil }
    let help = command.helpMessage(columns: 10_000)
    var known: Set<String> = ["--help", "--version", "--root-method"]   // the last is hidden (an old name)
    // Only the option lines' own names ("  -h, --help  Show help"), not flags named in descriptions.
    for line in help.split(separator: "\n") {
        let t = line.drop { $0 == " " }
        guard t.hasPrefix("-") else { continue }
        let names = t.components(separatedBy: "  ").first ?? ""
        for token in names.split(whereSeparator: { " ,<>".contains($0) }) where token.hasPrefix("--") { known.insert(String(token)) }
    }
    for arg in arguments.dropFirst() where arg.hasPrefix("--") && arg.count > 2 {
        let flag = String(arg.split(separator: "=", maxSplits: 1).first ?? Substring(arg))
        if !known.contains(flag) { return flag }
    }
    return nil
}

struct GameFlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gameflow",
        abstract: "Train games by integrating dx/dt = v(x): SimGA, consensus, implicit Euler and more.",
        discussion: """
            Sign convention: players maximise their utilities; v(x) = (∇φ f, ∇θ g)
            and training integrates dx/dt = v(x) ("The Numerics of GANs",
            Mescheder et al. 2017). Start with: gameflow demo
            """,
        version: "gameflow " + GameFlowVersion.description,
        subcommands: [Run.self, Compare.self, SpectrumCommand.self, FieldCommand.self, ClassifierCommand.self, EvaluateCommand.self, PlotCommand.self, FlowCommand.self, Train.self, Resume.self, Sweep.self, Demo.self])
}

/// Flushes stdout; output that could not be written is an error (exit 1 with one line on stderr).
func finishStandardOutput() {
    // fflush(nil) flushes every stream, stdout's buffer (all a --json run prints) included.
    if fflush(nil) != 0 {
        writeStandardError("gameflow: error: cannot write standard output: \(String(cString: strerror(errno)))\n")
        exit(1)
    }
}

/// Prints a progress line on stderr at most once a second, from the first second of a run on.
struct ProgressLine {
    let total: Int
    var startStep = 0
    let enabled: Bool
    let start = ContinuousClock.now
    var lastPrint = ContinuousClock.now
    var printed = false

    mutating func update(step: Int) {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard now - lastPrint >= .seconds(1) else { return }
        lastPrint = now
        printed = true
        writeStandardError(("\r" + progressText(step: step, total: total, startStep: startStep, elapsedSeconds: seconds(now - start)) + "   "))
    }

    func finish() {
        if printed { writeStandardError("\n") }
    }
}

/// What reproduces a result: the GameFlow version, the commit built, and the command's
/// arguments (for `train`, the canonical settings that `gameflow resume` re-parses).
func reproduction(arguments: [String]) -> [(String, JSON)] {
    [("gameflow_version", .string(GameFlowVersion.version)), ("commit", .string(GameFlowVersion.commit)),
     ("arguments", .array(arguments.map { .string($0) }))]
}

/// One line for why stored arguments (a checkpoint's, a sweep cell's, a run folder's) do not
/// parse as `command`: a help or version request is not a run (ArgumentParser's message for it
/// is the whole help text), and any other problem is its first line.
func storedArgumentsProblem<C: ParsableCommand>(_ command: C.Type, _ error: Error) -> String {
    if let e = error as? GameFlowError { return e.description }
    if command.exitCode(for: error) == .success {
        return "they ask for help or the version (--help, -h, --version), not a run"
    }
    return command.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
}

/// The command-line's checks of an --output folder: its parent exists (only the last folder is
/// created), and it holds no other command's results (`run`, `compare`, `flow` and `train`
/// wrote over each other's files silently). Nothing is written here.
func validateCommandOutput(_ dir: String, command: String) throws {
    try validateOutputDirectory(dir, createsParents: false)
    let marker = joinPath(dir, OutputMarker.fileName)
    if let other = try? String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !other.isEmpty {
        guard other == command else {
            throw GameFlowError.invalidInput("--output '\(dir)' holds the results of gameflow \(other): give another folder")
        }
        return
    }
    // Folders written before the marker existed: recognised by their files.
    let fm = FileManager.default
    let owner: String? = fm.fileExists(atPath: joinPath(dir, "checkpoint.json")) ? "train"
        : fm.fileExists(atPath: joinPath(dir, "spec.json")) ? "sweep"
        : fm.fileExists(atPath: joinPath(dir, "trajectory.csv")) && command == "compare" ? "run or flow"
        : nil
    if let o = owner, o != command {
        throw GameFlowError.invalidInput("--output '\(dir)' holds the results of gameflow \(o): give another folder")
    }
}

/// The file that says which command wrote a folder.
enum OutputMarker {
    static let fileName = ".gameflow-command"

    /// Records `command` as the folder's owner (after the folder is made).
    static func claim(_ dir: String, command: String) throws {
        try writeAtomically(command + "\n", to: joinPath(dir, fileName))
    }
}

/// The options that take a whole number.
let wholeNumberOptions: Set<String> = ["--steps", "--every", "--batch", "--seed", "--dim", "--hidden", "--depth", "--latent", "--jobs",
                                       "--root-max-iterations", "--krylov-dimension", "--newton-iterations", "--krylov-iterations",
                                       "--max-steps"]

/// `--steps 1e4` as `--steps 10000`: a whole-number option's value written as an integral
/// decimal number (1e4, 3.0) is accepted; anything else is left for the parser to refuse.
func integralArguments(_ arguments: [String]) -> [String] {
    func integral(_ text: String) -> String? {
        guard Int(text) == nil, let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return String(Int(d))
    }
    var out: [String] = []
    var expectValue = false
    for arg in arguments {
        if expectValue, let v = integral(arg) { out.append(v); expectValue = false; continue }
        expectValue = wholeNumberOptions.contains(arg)
        if let eq = arg.firstIndex(of: "="), wholeNumberOptions.contains(String(arg[..<eq])), let v = integral(String(arg[arg.index(after: eq)...])) {
            out.append(String(arg[..<eq]) + "=" + v)
            continue
        }
        out.append(arg)
    }
    return out
}
