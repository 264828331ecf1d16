import ArgumentParser
import Foundation
import GameFlow
import GameFlowBenchKit

/// `gameflow-bench allocations`: heap allocations per step of every scheme, optimizer and wrapper
/// (`AllocationSurvey`); exits 1, naming the runs, if any step allocates. CI runs it on the
/// release build.
struct AllocationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocations",
        abstract: "Heap allocations per step of every scheme, optimizer and wrapper on an analytic game and on GANs; exit 1 if any step allocates.")

    @Flag(help: "One JSON object with every run's count.") var json = false
    @Flag(name: .customLong("allow-debug")) var allowDebug = false

    func run() throws {
        try Bench.requireRelease(allowDebug: allowDebug)
        BLAS.useSingleThreadUnlessConfigured()
        let rows = try AllocationSurvey.run { row in
            if !json {
                let blas = row.inBLAS > 0 ? " (and \(row.inBLAS) inside OpenBLAS's small-matrix GEMM kernels)" : ""
                print("\(row.allocations == 0 ? "ok " : "ALLOCATES") \(row.game): \(row.scheme): \(row.allocations) allocations in \(row.steps) steps\(blas)")
            }
        }
        let offenders = rows.filter { $0.allocations > 0 }
        if json {
            let runs: [JSON] = rows.map { r in
                .object([("game", .string(r.game)), ("scheme", .string(r.scheme)),
                         ("allocations", .number(Double(r.allocations))),
                         ("allocations_in_openblas", .number(Double(r.inBLAS))), ("steps", .number(Double(r.steps)))])
            }
            print(JSON.object([("runs", .array(runs)), ("allocating_runs", .number(Double(offenders.count)))]).serialized())
        } else {
            let blas = rows.filter { $0.inBLAS > 0 }.count
            print("\(rows.count) runs, \(offenders.count) allocate per step" + (blas > 0 ? "; in \(blas), OpenBLAS's own small-matrix kernels allocate (not GameFlow's code)" : ""))
        }
        if !offenders.isEmpty { throw ExitCode(1) }
    }
}
