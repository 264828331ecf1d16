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
            var command = try GameFlowCommand.parseAsRoot()
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
        let message: String
        if let e = error as? GameFlowError {
            message = e.description
        } else {
            message = GameFlowCommand.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
        writeStandardError("gameflow: error: \(message)\n")
        exit(code.rawValue == 0 ? 1 : code.rawValue)
    }
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
        subcommands: [Run.self, Compare.self, SpectrumCommand.self, FlowCommand.self, Train.self, Resume.self, Sweep.self, Demo.self])
}

/// `dir/name` (Foundation's path functions trapped on one-letter relative paths).
func joinPath(_ dir: String, _ name: String) -> String {
    dir.hasSuffix("/") ? dir + name : dir + "/" + name
}

/// The directory part of `path` ("" for a bare name, "/" for a file in the root).
func parentPath(_ path: String) -> String {
    var p = Substring(path)
    while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
    guard let slash = p.lastIndex(of: "/") else { return "" }
    if slash == p.startIndex { return "/" }
    return String(p[..<slash])
}

/// Writes `contents` to `path` atomically: into a temporary file beside it, flushed to disk,
/// then renamed over it, so a reader (or a kill) sees the old file or the new one, never half.
/// Refuses a target that exists and is not a regular file (a device, FIFO, directory or a
/// symlink: nothing but a regular file is ever replaced). Nothing is left behind on failure.
func write(_ contents: String, to path: String) throws {
    var st = stat()
    if lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
        throw GameFlowError.invalidInput("cannot write '\(path)': it exists and is not a regular file (refusing to replace it)")
    }
    let temporary = path + ".tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw GameFlowError.invalidInput("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    var failure: Int32 = 0
    var bytes = Array(contents.utf8)
    bytes.withUnsafeMutableBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 { if errno == EINTR { continue }; failure = errno; return }
            offset += n
        }
    }
    if failure == 0 && fsync(fd) != 0 { failure = errno }
    if close(fd) != 0 && failure == 0 { failure = errno }
    if failure == 0 && rename(temporary, path) != 0 { failure = errno }
    if failure != 0 {
        unlink(temporary)
        throw GameFlowError.invalidInput("cannot write '\(path)': \(String(cString: strerror(failure)))")
    }
}

/// One line on stderr. A failed write (a full disk, a lost terminal) is ignored: there is
/// nowhere left to report it, and it must not end a run.
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Flushes stdout; output that could not be written is an error (exit 1 with one line on stderr).
func finishStandardOutput() {
    // fflush(nil) flushes every stream, stdout's buffer (all a --json run prints) included.
    if fflush(nil) != 0 {
        writeStandardError("gameflow: error: cannot write standard output: \(String(cString: strerror(errno)))\n")
        exit(1)
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
    var ancestor = parentPath(dir)
    while !ancestor.isEmpty, !FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDir) {
        let up = parentPath(ancestor)
        if up == ancestor { break }
        ancestor = up
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
    let parent = parentPath(path)
    if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
        throw GameFlowError.invalidInput("cannot write '\(path)': directory '\(parent)' does not exist")
    }
}

/// Creates the output directory `dir` (with its parents) and takes the run's advisory lock on
/// `dir/.gameflow.lock` (flock; released when the process ends, however it ends), so a second
/// run into the same folder is refused instead of mixing its files with this one's.
func createDirectory(_ dir: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        throw GameFlowError.invalidInput("cannot create directory '\(dir)': \(errorText(error))")
    }
    let path = joinPath(dir, ".gameflow.lock")
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw GameFlowError.invalidInput("cannot create '\(path)': \(String(cString: strerror(errno)))") }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
        let busy = errno == EWOULDBLOCK
        close(fd)
        throw GameFlowError.invalidInput(busy ? "another gameflow run is writing into '\(dir)' (its lock '\(path)' is held)"
                                              : "cannot lock '\(path)': \(String(cString: strerror(errno)))")
    }
    // The descriptor stays open (and the lock held) until the process exits. Holding it, no
    // other gameflow process writes here: temporary files left by a killed one are removed.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
        if let r = name.range(of: ".tmp-", options: .backwards), !name[r.upperBound...].isEmpty,
           name[r.upperBound...].allSatisfy(\.isNumber) {
            unlink(joinPath(dir, name))
        }
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

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// What reproduces a result: the GameFlow version, the commit built, and the command's
/// arguments (for `train`, the canonical settings that `gameflow resume` re-parses).
func reproduction(arguments: [String]) -> [(String, JSON)] {
    [("gameflow_version", .string(GameFlowVersion.version)), ("commit", .string(GameFlowVersion.commit)),
     ("arguments", .array(arguments.map { .string($0) }))]
}
