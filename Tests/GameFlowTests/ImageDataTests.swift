import Foundation
import GameFlowTestSupport
import Testing
@testable import GameFlow

/// IDX (gzipped by the system's gzip, an independent compressor) and .npy files read as the
/// formats define them; bad files are one line; PNG grids are valid PNG (signature, IHDR, and
/// IDAT inflating to exactly the rows the image needs).
@Suite struct ImageDataTests {
    static func temporary(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gf-images-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    @Test func gzippedIDXImages() throws {
        let (n, h, w) = (3, 4, 5)
        let pixels = (0..<(n * h * w)).map { UInt8(($0 * 37) % 256) }
        let path = Self.temporary("x.idx3-ubyte")
        try Data([0, 0, 8, 3, 0, 0, 0, UInt8(n), 0, 0, 0, UInt8(h), 0, 0, 0, UInt8(w)] + pixels).write(to: URL(fileURLWithPath: path))
        try? FileManager.default.removeItem(atPath: path + ".gz")
        #expect(try runProcess("/bin/gzip", ["-k", path]).code == 0)
        for file in [path, path + ".gz"] {
            let images = try ImageDataset.load(path: file)
            #expect(images.shape == [1, h, w] && images.count == n)
            #expect(images.images(n) == pixels.map { Double($0) / 127.5 - 1 })
        }
        // Truncated: the gzip stream, and the IDX data itself.
        let gz = try Data(contentsOf: URL(fileURLWithPath: path + ".gz"))
        try gz.prefix(gz.count - 12).write(to: URL(fileURLWithPath: path + ".cut.gz"))
        #expect(throws: GameFlowError.invalidInput("gzip file '\(path).cut.gz' is damaged or truncated (unexpected end of data)")) {
            try ImageDataset.load(path: path + ".cut.gz")
        }
        let raw = try Data(contentsOf: URL(fileURLWithPath: path))
        try raw.prefix(raw.count - 1).write(to: URL(fileURLWithPath: path + ".cut"))
        #expect(throws: GameFlowError.invalidInput("IDX file '\(path).cut' is truncated: 3×4×5 needs 60 bytes, it holds 59")) {
            try ImageDataset.load(path: path + ".cut")
        }
        try Data("hello".utf8).write(to: URL(fileURLWithPath: path + ".bad"))
        #expect(throws: GameFlowError.invalidInput("'\(path).bad' is not an IDX file (wrong magic number)")) { try ImageDataset.load(path: path + ".bad") }
    }

    @Test func numpyArrays() throws {
        var rng = SeededGenerator(seed: 1)
        let values = randomVector(2 * 3 * 2 * 2, &rng)
        let path = Self.temporary("x.npy")
        try NumPyArray.encode(values, shape: [2, 3, 2, 2]).write(to: URL(fileURLWithPath: path))
        let images = try ImageDataset.load(path: path)
        #expect(images.shape == [3, 2, 2] && images.count == 2 && images.images(2) == values)
        // A uint8 N×H×W array written by hand as NumPy's format 1.0 defines it.
        var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let bytes: [UInt8] = [0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
        try Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + bytes).write(to: URL(fileURLWithPath: path))
        let u8 = try ImageDataset.load(path: path)
        #expect(u8.shape == [1, 2, 3] && u8.images(2) == bytes.map { Double($0) / 127.5 - 1 })
        var nan = values
        nan[3] = .nan
        try NumPyArray.encode(nan, shape: [2, 3, 2, 2]).write(to: URL(fileURLWithPath: path))
        #expect(throws: GameFlowError.invalidInput("image file '\(path)': images 'x.npy': a value is not finite")) { try ImageDataset.load(path: path) }
    }

    @Test func pngGridIsValidPNG() throws {
        var rng = SeededGenerator(seed: 2)
        let images = (0..<(5 * 3 * 4)).map { _ in tanh(rng.normal()) }
        let png = try PNGImage.grid(images, shape: [1, 3, 4], rows: 2, columns: 3)
        let b = [UInt8](png)
        #expect(b.prefix(8) == [137, 80, 78, 71, 13, 10, 26, 10])
        func be32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        #expect(String(bytes: b[12..<16], encoding: .ascii) == "IHDR")
        let (width, height) = (be32(16), be32(20))
        #expect(width == 3 * (4 + 2) + 2 && height == 2 * (3 + 2) + 2)
        // Concatenate the IDAT chunks and inflate them: one filter byte + width bytes per row.
        var o = 8, idat = Data()
        while o + 8 <= b.count {
            let length = be32(o), type = String(bytes: b[(o + 4)..<(o + 8)], encoding: .ascii)
            if type == "IDAT" { idat.append(contentsOf: b[(o + 8)..<(o + 8 + length)]) }
            o += 12 + length
        }
        #expect(try gunzip(idat, path: "IDAT").count == height * (1 + width))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ImageDataset.fashionMNISTDirectory + "/t10k-images-idx3-ubyte.gz")))
    func fashionMNISTTestSet() throws {
        let test = try ImageDataset.fashionMNIST(test: true)
        #expect(test.count == 10_000 && test.shape == [1, 28, 28])
        let first = test.images(1)
        #expect(first.min()! == -1 && first.max()! <= 1 && Set(first).count > 10)
    }
}
