import Foundation
import GameFlow

/// What the unit tests (GameFlowTests) and the process tests (GameFlowProcessTests) share.

/// Runs a process to completion: its exit status, stdout and stderr.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                directory: URL? = nil) throws -> (code: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let e = environment { p.environment = e }
    if let d = directory { p.currentDirectoryURL = d }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// The `gameflow` executable built beside the test bundle of `anchor` (the same products directory).
public func gameflowBinary(near anchor: AnyClass) -> URL {
    var dir = Bundle(for: anchor).bundleURL
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("gameflow").path), dir.path != "/" {
        dir.deleteLastPathComponent()
    }
    return dir.appendingPathComponent("gameflow")
}

/// The largest root modulus of Gidel et al.'s characteristic polynomial (z − 1)²(z − β)² + a²z³
/// of alternating updates with momentum β on a bilinear game (a = hσ): the spectral radius of
/// the companion matrix of z⁴ + (a² − 2β − 2)z³ + (β² + 4β + 1)z² − 2β(β + 1)z + β².
public func gidelRate(a: Double, beta b: Double) throws -> Double {
    let c3 = a * a - 2 * b - 2, c2 = b * b + 4 * b + 1, c1 = -2 * b * (b + 1), c0 = b * b
    let companion = Matrix(rows: 4, columns: 4, storage: [-c3, -c2, -c1, -c0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    return try Spectrum(matrix: companion).spectralRadius
}
