import Foundation
import CGSL

/// GameFlow's errors. Every failure of user input or of a numerical library becomes one of
/// these; nothing aborts the process.
public enum GameFlowError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Bad input (sizes, values, files); the message names the problem.
    case invalidInput(String)
    /// A matrix that had to be inverted is singular to working precision.
    case singularMatrix
    /// A GSL routine returned a failure status.
    case gsl(code: Int32, reason: String, context: String)

    public var description: String {
        switch self {
        case .invalidInput(let m): return m
        case .singularMatrix: return "matrix is singular to working precision"
        case let .gsl(code, reason, context): return "\(context): GSL error \(code) (\(reason))"
        }
    }
}

/// The thin Swift side of the GSL shim.
public enum GSL {
    private static let handlerOff: Bool = {
        // GSL's default handler calls abort(); with it off every routine just returns its status,
        // which GameFlow turns into an error or a status value.
        _ = gsl_set_error_handler_off()
        return true
    }()

    /// Switches GSL's aborting error handler off (idempotent, thread-safe). Every GSL entry point
    /// in GameFlow calls this first.
    public static func initialize() { _ = handlerOff }

    /// GSL's version string, e.g. "2.7.1".
    public static var version: String { String(cString: cgsl_version()) }

    /// GSL's text for a status code.
    public static func reason(_ code: Int32) -> String { String(cString: gsl_strerror(code)) }

    static func check(_ status: Int32, _ context: @autoclosure () -> String) throws {
        if status != Int32(GSL_SUCCESS) {
            throw GameFlowError.gsl(code: status, reason: reason(status), context: context())
        }
    }
}

/// OpenBLAS thread control. GameFlow's problems are small enough that a second BLAS thread only
/// costs time on these machines, so front ends call `useSingleThreadUnlessConfigured()` at start.
public enum BLAS {
    /// OpenBLAS's thread count.
    public static var threads: Int { Int(openblas_get_num_threads()) }
    /// Sets OpenBLAS's thread count.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    /// One BLAS thread unless `OPENBLAS_NUM_THREADS` is set in the environment.
    public static func useSingleThreadUnlessConfigured() {
        if getenv("OPENBLAS_NUM_THREADS") == nil { setThreads(1) }
    }
}
