import CPNG
import CZlib
import Foundation

/// Images as GAN data: N samples of shape (C, H, W), channels-first as PyTorch, read from IDX
/// files (optionally gzipped, as Debian's `dataset-fashion-mnist` ships them) or NumPy `.npy`
/// arrays (uint8, float32 or float64; N×H×W or N×C×H×W, C order). uint8 pixels p become
/// p/127.5 − 1 ∈ [−1, 1] (the range of a tanh generator); float arrays are used as given.
/// A batch draws samples uniformly with replacement.
public struct ImageDataset: SampleSource {
    public enum Pixels: Sendable {
        case bytes([UInt8])
        case floats([Float])
        case doubles([Double])
    }

    public let name: String
    /// (C, H, W).
    public let shape: [Int]
    public let pixels: Pixels
    /// N.
    public let count: Int
    public var dimension: Int { shape.reduce(1, *) }

    /// - Throws: when the shape is not (C, H, W) with positive sizes, the pixel count is not a
    ///   multiple of C·H·W, or a float is not finite.
    public init(name: String, shape: [Int], pixels: Pixels) throws {
        guard shape.count == 3, shape.allSatisfy({ $0 >= 1 }) else {
            throw GameFlowError.invalidInput("images '\(name)': shape must be (channels, height, width) (got \(shape))")
        }
        let total: Int
        switch pixels {
        case .bytes(let b): total = b.count
        case .floats(let f):
            total = f.count
            guard f.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("images '\(name)': a value is not finite") }
        case .doubles(let d):
            total = d.count
            guard d.allSatisfy(\.isFinite) else { throw GameFlowError.invalidInput("images '\(name)': a value is not finite") }
        }
        let size = shape.reduce(1, *)
        guard total > 0, total % size == 0 else {
            throw GameFlowError.invalidInput("images '\(name)': \(total) values are not a whole number of \(shape.map(String.init).joined(separator: "×")) images")
        }
        self.name = name
        self.shape = shape
        self.pixels = pixels
        self.count = total / size
    }

    /// Image i as numbers (the range D sees) into `out`.
    public func image(_ i: Int, into out: UnsafeMutablePointer<Double>) {
        let d = dimension, o = i * d
        switch pixels {
        case .bytes(let b): b.withUnsafeBufferPointer { p in for j in 0..<d { out[j] = Double(p[o + j]) / 127.5 - 1 } }
        case .floats(let f): f.withUnsafeBufferPointer { p in for j in 0..<d { out[j] = Double(p[o + j]) } }
        case .doubles(let v): v.withUnsafeBufferPointer { p in for j in 0..<d { out[j] = p[o + j] } }
        }
    }

    public func sample(_ count: Int, into out: UnsafeMutablePointer<Double>, rng: inout SeededGenerator) {
        let n = UInt64(self.count), d = dimension
        for r in 0..<count { image(Int(rng.next() % n), into: out + r * d) }
    }

    /// The first `count` images (count × C·H·W).
    public func images(_ count: Int) -> [Double] {
        var out = [Double](repeating: 0, count: min(count, self.count) * dimension)
        out.withUnsafeMutableBufferPointer { o in for i in 0..<min(count, self.count) { image(i, into: o.baseAddress! + i * dimension) } }
        return out
    }

    /// Where Debian's `dataset-fashion-mnist` puts its files (`GAMEFLOW_FASHION_MNIST` overrides).
    public static var fashionMNISTDirectory: String {
        ProcessInfo.processInfo.environment["GAMEFLOW_FASHION_MNIST"] ?? "/usr/share/datasets/fashion-mnist"
    }

    /// Fashion-MNIST's 60,000 training images (`test`: the 10,000 test images), 1×28×28.
    /// - Throws: naming the package to install when the files are missing.
    public static func fashionMNIST(test: Bool = false) throws -> ImageDataset {
        let path = fashionMNISTDirectory + (test ? "/t10k-images-idx3-ubyte.gz" : "/train-images-idx3-ubyte.gz")
        guard FileManager.default.fileExists(atPath: path) else {
            throw GameFlowError.invalidInput("Fashion-MNIST is not installed: \(path) does not exist (apt-get install dataset-fashion-mnist)")
        }
        return try load(path: path, name: test ? "fashion-mnist-test" : "fashion-mnist")
    }

    /// Reads an IDX (`.idx3-ubyte`, gzipped or not) or `.npy` image file; every problem is one
    /// line naming the file.
    public static func load(path: String, name: String? = nil) throws -> ImageDataset {
        var data = try readInput(path, what: "image file", limit: 1 << 31)
        if data.starts(with: [0x1f, 0x8b]) { data = try gunzip(data, path: path) }
        let label = name ?? (path as NSString).lastPathComponent
        if data.starts(with: [0x93] + Array("NUMPY".utf8)) {
            let array = try NumPyArray(data: data, path: path)
            let s = array.shape
            guard s.count == 3 || s.count == 4 else {
                throw GameFlowError.invalidInput("image file '\(path)': expected an N×H×W or N×C×H×W array (got shape \(s))")
            }
            let shape = s.count == 3 ? [1, s[1], s[2]] : [s[1], s[2], s[3]]
            do { return try ImageDataset(name: label, shape: shape, pixels: array.pixels) } catch let e as GameFlowError {
                throw GameFlowError.invalidInput("image file '\(path)': \(e.description)")
            }
        }
        let idx = try IDXArray(data: data, path: path)
        guard idx.shape.count == 3 else {
            throw GameFlowError.invalidInput("image file '\(path)': an IDX image file holds N×H×W (got \(idx.shape.count) dimensions)")
        }
        return try ImageDataset(name: label, shape: [1, idx.shape[1], idx.shape[2]], pixels: .bytes(idx.bytes))
    }
}

/// An IDX array of unsigned bytes (LeCun's MNIST format: magic 0x0000 08 nd, nd big-endian
/// sizes, then the values).
public struct IDXArray: Sendable {
    public let shape: [Int]
    public let bytes: [UInt8]

    public init(data: Data, path: String) throws {
        let b = [UInt8](data)
        guard b.count >= 4, b[0] == 0, b[1] == 0 else { throw GameFlowError.invalidInput("'\(path)' is not an IDX file (wrong magic number)") }
        guard b[2] == 0x08 else { throw GameFlowError.invalidInput("IDX file '\(path)': only unsigned-byte data (type 0x08) is read (got 0x\(String(b[2], radix: 16)))") }
        let nd = Int(b[3])
        guard nd >= 1, nd <= 4, b.count >= 4 + 4 * nd else { throw GameFlowError.invalidInput("IDX file '\(path)' is truncated (its header)") }
        var shape: [Int] = []
        for k in 0..<nd {
            let o = 4 + 4 * k
            shape.append(Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]))
        }
        let total = shape.reduce(1, *)
        guard shape.allSatisfy({ $0 >= 1 }) else { throw GameFlowError.invalidInput("IDX file '\(path)' has an empty dimension \(shape)") }
        guard b.count - (4 + 4 * nd) >= total else {
            throw GameFlowError.invalidInput("IDX file '\(path)' is truncated: \(shape.map(String.init).joined(separator: "×")) needs \(total) bytes, it holds \(b.count - 4 - 4 * nd)")
        }
        self.shape = shape
        self.bytes = Array(b[(4 + 4 * nd)..<(4 + 4 * nd + total)])
    }
}

/// A NumPy `.npy` array (format versions 1–3, little-endian uint8, float32 or float64, C order).
public struct NumPyArray: Sendable {
    public let shape: [Int]
    public let pixels: ImageDataset.Pixels

    public init(data: Data, path: String) throws {
        let b = [UInt8](data)
        func fail(_ why: String) -> GameFlowError { GameFlowError.invalidInput("NumPy file '\(path)': \(why)") }
        guard b.count >= 10, b.starts(with: [0x93] + Array("NUMPY".utf8)) else { throw fail("not a .npy file (wrong magic)") }
        let major = b[6]
        let headerLength: Int, start: Int
        switch major {
        case 1: headerLength = Int(b[8]) | Int(b[9]) << 8; start = 10
        case 2, 3:
            guard b.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; start = 12
        default: throw fail("format version \(major) is not read (1–3 are)")
        }
        guard b.count >= start + headerLength, let header = String(bytes: b[start..<(start + headerLength)], encoding: .utf8) else {
            throw fail("truncated header")
        }
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), let q1 = descrField.firstIndex(where: { $0 == "'" || $0 == "\"" }) else { throw fail("no 'descr'") }
        let rest = descrField[descrField.index(after: q1)...]
        guard let q2 = rest.firstIndex(where: { $0 == "'" || $0 == "\"" }) else { throw fail("bad 'descr'") }
        let descr = String(rest[..<q2])
        if let f = field("fortran_order"), f.hasPrefix("True") { throw fail("Fortran-ordered arrays are not read (save with C order)") }
        guard let s = field("shape"), let open = s.firstIndex(of: "("), let close = s.firstIndex(of: ")") else { throw fail("no 'shape'") }
        let dims = s[s.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try dims.map { d -> Int in
            guard let v = Int(d), v >= 0 else { throw fail("bad shape '\(s[open...close])'") }
            return v
        }
        let total = shape.reduce(1, *)
        let body = b[(start + headerLength)...]
        func need(_ size: Int) throws {
            guard body.count >= total * size else { throw fail("truncated: shape \(shape) needs \(total * size) bytes of data, it holds \(body.count)") }
        }
        switch descr {
        case "|u1", "<u1", "u1":
            try need(1)
            pixels = .bytes(Array(body.prefix(total)))
        case "<f4":
            try need(4)
            var f = [Float](repeating: 0, count: total)
            f.withUnsafeMutableBytes { $0.copyBytes(from: body.prefix(4 * total)) }
            pixels = .floats(f)
        case "<f8":
            try need(8)
            var f = [Double](repeating: 0, count: total)
            f.withUnsafeMutableBytes { $0.copyBytes(from: body.prefix(8 * total)) }
            pixels = .doubles(f)
        default:
            throw fail("dtype '\(descr)' is not read (uint8, little-endian float32 and float64 are)")
        }
        self.shape = shape
    }

    /// A float64 `.npy` file (format 1.0) of `values` with `shape`.
    public static func encode(_ values: [Double], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count)
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        d.append(contentsOf: Array(header.utf8))
        values.withUnsafeBytes { d.append(contentsOf: $0) }
        return d
    }
}

/// Inflates gzip (or zlib) data with zlib; a damaged or truncated stream is one line naming the file.
public func gunzip(_ data: Data, path: String) throws -> Data {
    var stream = z_stream()
    guard czlib_inflate_init(&stream) == Z_OK else { throw GameFlowError.invalidInput("zlib could not start inflating '\(path)'") }
    defer { inflateEnd(&stream) }
    var out = Data()
    let chunk = 1 << 20
    var buffer = [UInt8](repeating: 0, count: chunk)
    var input = [UInt8](data)
    var status: Int32 = Z_OK
    input.withUnsafeMutableBufferPointer { inp in
        stream.next_in = inp.baseAddress
        stream.avail_in = UInt32(inp.count)
        repeat {
            buffer.withUnsafeMutableBufferPointer { o in
                stream.next_out = o.baseAddress
                stream.avail_out = UInt32(chunk)
                status = inflate(&stream, Z_NO_FLUSH)
                out.append(o.baseAddress!, count: chunk - Int(stream.avail_out))
            }
        } while status == Z_OK
    }
    guard status == Z_STREAM_END else {
        let reason = stream.msg.map { String(cString: $0) } ?? (status == Z_BUF_ERROR ? "unexpected end of data" : "zlib status \(status)")
        throw GameFlowError.invalidInput("gzip file '\(path)' is damaged or truncated (\(reason))")
    }
    return out
}

/// PNG images through libpng.
public enum PNGImage {
    /// An 8-bit PNG of width × height pixels (channels 1 gray, 3 RGB).
    /// - Throws: libpng's reason when it fails.
    public static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int = 1) throws -> Data {
        precondition(pixels.count == width * height * channels && (channels == 1 || channels == 3))
        var size = 0
        var message = [CChar](repeating: 0, count: 64)
        if cpng_encode(pixels, Int32(width), Int32(height), Int32(channels), nil, &size, &message) != 0 {
            throw GameFlowError.invalidInput("libpng: \(String(cString: message))")
        }
        var out = [UInt8](repeating: 0, count: size)
        let status = out.withUnsafeMutableBytes { cpng_encode(pixels, Int32(width), Int32(height), Int32(channels), $0.baseAddress, &size, &message) }
        if status != 0 { throw GameFlowError.invalidInput("libpng: \(String(cString: message))") }
        return Data(out.prefix(size))
    }

    /// A grid of `rows` × `columns` images (each (C, H, W), values in [−1, 1] mapped to 0…255 and
    /// clipped) with a 2-pixel gap, as a PNG: gray for C = 1, RGB for C = 3, and the first channel
    /// in gray for any other C.
    public static func grid(_ images: [Double], shape: [Int], rows: Int, columns: Int) throws -> Data {
        let (channels, h, w) = (shape[0], shape[1], shape[2])
        let c = channels == 3 ? 3 : 1
        let gap = 2, width = columns * (w + gap) + gap, height = rows * (h + gap) + gap
        var pixels = [UInt8](repeating: 255, count: width * height * c)
        let size = channels * h * w
        for k in 0..<min(rows * columns, images.count / size) {
            let (gr, gc) = (k / columns, k % columns)
            for ch in 0..<c { for y in 0..<h { for x in 0..<w {
                let v = images[k * size + (ch * h + y) * w + x]
                let p = v.isFinite ? UInt8(max(0, min(255, ((v + 1) * 127.5).rounded()))) : 0
                pixels[((gap + gr * (h + gap) + y) * width + gap + gc * (w + gap) + x) * c + ch] = p
            } } }
        }
        return try encode(pixels, width: width, height: height, channels: c)
    }
}
