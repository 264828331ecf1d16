import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Files written by runs and sweeps: atomic writes, output folders with an advisory lock, one
// line on stderr. The command line and the library's sweep engine share them.

/// `dir/name` (Foundation's path functions trapped on one-letter relative paths).
package func joinPath(_ dir: String, _ name: String) -> String {
    dir.hasSuffix("/") ? dir + name : dir + "/" + name
}

/// The directory part of `path` ("" for a bare name, "/" for a file in the root).
package func parentPath(_ path: String) -> String {
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
package func writeAtomically(_ contents: String, to path: String) throws {
    try writeAtomically(Data(contents.utf8), to: path)
}

/// `writeAtomically` for bytes (PNG images, .npy arrays).
package func writeAtomically(_ contents: Data, to path: String) throws {
    var st = stat()
    if lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
        throw GameFlowError.invalidInput("cannot write '\(path)': it exists and is not a regular file (refusing to replace it)")
    }
    let temporary = path + ".tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw GameFlowError.invalidInput("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    var failure: Int32 = 0
    var bytes = [UInt8](contents)
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
public func writeStandardError(_ text: String) {
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

/// Checks that `dir` can be used for output (absent, or an existing directory; its nearest
/// existing ancestor a writable directory) without creating it.
package func validateOutputDirectory(_ dir: String, createsParents: Bool = true) throws {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
        guard isDir.boolValue else { throw GameFlowError.invalidInput("--output '\(dir)' exists and is not a directory") }
        guard FileManager.default.isWritableFile(atPath: dir) else { throw GameFlowError.invalidInput("--output '\(dir)' is not writable") }
        return
    }
    if !createsParents {
        // The command line creates only the last folder: a mistyped parent is an error, not a new tree.
        let parent = parentPath(dir).isEmpty ? "." : parentPath(dir)
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDir), isDir.boolValue else {
            throw GameFlowError.invalidInput("--output '\(dir)': its parent '\(parent)' does not exist (only the last folder is created)")
        }
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
package func validateOutputFile(_ path: String) throws {
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
/// `dir/.gameflow.lock` (flock; released when the process ends, however it ends, or when the
/// returned descriptor is closed), so a second run into the same folder is refused instead of
/// mixing its files with this one's.
@discardableResult
package func createOutputDirectory(_ dir: String) throws -> Int32 {
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
    removeTemporaries(in: dir)
    return fd
}

/// Removes the temporary files (`NAME.tmp-PID`) that `writeAtomically` leaves when its process
/// is killed between writing and renaming; call it only while holding the folder's lock.
package func removeTemporaries(in dir: String) {
    for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
        if let r = name.range(of: ".tmp-", options: .backwards), !name[r.upperBound...].isEmpty,
           name[r.upperBound...].allSatisfy(\.isNumber) {
            unlink(joinPath(dir, name))
        }
    }
}

/// The system's reason for a failed file operation, one line.
package func errorText(_ error: Error) -> String {
    if let e = error as? CocoaError, let u = e.underlying as? POSIXError { return String(cString: strerror(u.code.rawValue)) }
    if let e = error as? POSIXError { return String(cString: strerror(e.code.rawValue)) }
    return error.localizedDescription
}

/// Appends one or more complete rows to a streamed CSV: all of them or, when the write fails
/// (a full disk, a file-size limit), none — the file is cut back to its last complete row and the
/// error names the file.
package func appendRow(_ text: String, to handle: FileHandle, path: String) throws {
    let before = handle.offsetInFile
    do {
        try handle.write(contentsOf: Data(text.utf8))
    } catch {
        try? handle.truncate(atOffset: before)
        throw GameFlowError.invalidInput("cannot write '\(path)': \(errorText(error))")
    }
}

/// Seconds in a `Duration`, as a `Double`.
package func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}
