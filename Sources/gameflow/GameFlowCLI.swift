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
        do {
            var command = try GameFlowCommand.parseAsRoot()
            try command.run()
        } catch {
            exitWith(error)
        }
    }

    static func exitWith(_ error: Error) -> Never {
        if let e = error as? ExitCode { exit(e.rawValue) }   // the command has said why already
        let code = GameFlowCommand.exitCode(for: error)
        if code == .success {  // --help, --version
            print(GameFlowCommand.fullMessage(for: error))
            exit(0)
        }
        let message: String
        if let e = error as? GameFlowError {
            message = e.description
        } else {
            message = GameFlowCommand.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
        FileHandle.standardError.write(Data("gameflow: error: \(message)\n".utf8))
        exit(code.rawValue == 0 ? 1 : code.rawValue)
    }
}

struct GameFlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gameflow",
        abstract: "Train games by integrating dx/dt = v(x): SimGA, consensus, implicit Euler and more.",
        discussion: """
            Sign convention: players maximise their utilities; v(x) = (∇φ f, ∇θ g) and training
            integrates dx/dt = v(x) ("The Numerics of GANs", Mescheder et al. 2017).
            """,
        subcommands: [Run.self, Compare.self, SpectrumCommand.self, Train.self, Resume.self, Demo.self])
}

/// Writes `contents` to `path` atomically.
func write(_ contents: String, to path: String) throws {
    do {
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw GameFlowError.invalidInput("cannot write '\(path)': \(error.localizedDescription)")
    }
}

/// Checks that `dir` can be used for output (absent, or an existing directory; its nearest
/// existing ancestor a writable directory) without creating it.
func validateOutputDirectory(_ dir: String) throws {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
        guard isDir.boolValue else { throw GameFlowError.invalidInput("--output '\(dir)' exists and is not a directory") }
        guard FileManager.default.isWritableFile(atPath: dir) else { throw GameFlowError.invalidInput("--output '\(dir)' is not writable") }
        return
    }
    var ancestor = (dir as NSString).deletingLastPathComponent
    while !ancestor.isEmpty, !FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDir) {
        ancestor = (ancestor as NSString).deletingLastPathComponent
    }
    if ancestor.isEmpty { ancestor = "." ; _ = FileManager.default.fileExists(atPath: ".", isDirectory: &isDir) }
    guard isDir.boolValue else { throw GameFlowError.invalidInput("--output '\(dir)': '\(ancestor)' is not a directory") }
    guard FileManager.default.isWritableFile(atPath: ancestor) else {
        throw GameFlowError.invalidInput("--output '\(dir)': '\(ancestor)' is not writable")
    }
}

/// Checks that a file can be written at `path` (its directory exists; it is not a directory) without writing it.
func validateOutputFile(_ path: String) throws {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
        throw GameFlowError.invalidInput("'\(path)' is a directory")
    }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
        throw GameFlowError.invalidInput("cannot write '\(path)': directory '\(parent)' does not exist")
    }
}

func createDirectory(_ dir: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        throw GameFlowError.invalidInput("cannot create directory '\(dir)': \(error.localizedDescription)")
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
        FileHandle.standardError.write(Data(("\r" + progressText(step: step, total: total, startStep: startStep, elapsedSeconds: seconds(now - start)) + "   ").utf8))
    }

    func finish() {
        if printed { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
