import Foundation

/// Reusable work arrays for products that need temporary vectors, without allocating on every
/// call: `take` hands out an array of the given length (a pooled one when one is free, a new one
/// otherwise), `give` returns it. Thread-safe; a game value shared by threads just pools more.
final class Scratch: @unchecked Sendable {
    private let lock = NSLock()
    private var pool: [[Double]] = []

    init() { pool.reserveCapacity(8) }

    func take(_ count: Int) -> [Double] {
        lock.lock()
        defer { lock.unlock() }
        if let i = pool.lastIndex(where: { $0.count == count }) {
            var out: [Double] = []
            swap(&out, &pool[i])
            pool.swapAt(i, pool.count - 1)
            pool.removeLast()
            return out
        }
        return [Double](repeating: 0, count: count)
    }

    func give(_ array: inout [Double]) {
        var a: [Double] = []
        swap(&a, &array)
        lock.lock()
        defer { lock.unlock() }
        if pool.count < 8 { pool.append(a) }
    }
}
