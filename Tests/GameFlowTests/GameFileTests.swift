import Foundation
import Testing
@testable import GameFlow

@Suite struct GameFileTests {
    func parse(_ text: String) throws -> GameFile { try GameFile.parse(Data(text.utf8)) }

    func message(_ text: String) -> String {
        do { _ = try parse(text); return "accepted" } catch { return "\(error)" }
    }

    @Test func bilinearFile() throws {
        let f = try parse(#"{"game": "bilinear", "A": [[1, 2], [3, 4], [5, 6]], "x0": [1, 0, 0, 1, 1]}"#)
        let g = try #require(f.game as? BilinearGame)
        #expect(g.A.rows == 3 && g.A.columns == 2 && g.players == [0..<3, 3..<5])
        #expect(f.initialState == [1, 0, 0, 1, 1])
        // v = (Aθ, −Aᵀφ)
        #expect(g.vectorField(at: [1, 0, 0, 1, 1]) == [3, 7, 11, -1, -2])
    }

    @Test("Numbers are read exactly: Swift's printed doubles (17 digits) parse back to the same bits")
    func exactNumbers() throws {
        var rng = SeededGenerator(seed: 12)
        let xs = (0..<200).map { i in rng.normal() * pow(10, Double(i % 40 - 20)) } + [0.32925552210165027, -0.00012345678901234567, 0.1]
        let text = #"{"game": "bilinear", "A": [[1]], "x0": ["# + xs.map { "\($0)" }.joined(separator: ", ") + "]}"
        let f = try parse(text.replacingOccurrences(of: #""A": [[1]]"#, with: #""A": [["# + Array(repeating: "1", count: xs.count - 1).joined(separator: ", ") + "]]"))
        #expect(f.initialState == xs)
    }

    @Test func affineFile() throws {
        let f = try parse(#"{"game": "affine", "players": [1, 1], "M": [[-0.1, 1], [-1, -0.1]], "b": [0.5, 0], "x0": [1, 1]}"#)
        #expect(f.game.dimension == 2 && f.game.players == [0..<1, 1..<2])
        #expect(f.game.vectorField(at: [1, 1]) == [1.4, -1.1])
    }

    @Test("Bad files name the problem", arguments: [
        (#"{"game": "bilinear", "A": [[1, 2]], "x0": [1, 2"#, "malformed JSON"),
        (#"{"game": "affine", "players": [1, 1], "M": [[1, 2, 3], [4, 5, 6]], "b": [0, 0], "x0": [1, 1]}"#, "'M' must be square"),
        (#"{"game": "affine", "players": [1, 2], "M": [[1, 0], [0, 1]], "b": [0, 0], "x0": [1, 1]}"#, "player sizes"),
        (#"{"game": "affine", "players": [1, 1], "M": [[1, 0], [0, 1]], "b": [0], "x0": [1, 1]}"#, "b has 1 entries"),
        (#"{"game": "bilinear", "A": [[1, 2]], "x0": [1, 2]}"#, "'x0' has 2 entries"),
        (#"{"game": "bilinear", "A": [[1, 2], [3]], "x0": [1, 2, 3, 4]}"#, "rows differ"),
        (#"{"game": "bilinear", "A": [[1, 1e400]], "x0": [1, 2, 3]}"#, "malformed JSON"),
        (#"{"game": "bilinear", "A": [[1, NaN]], "x0": [1, 2, 3]}"#, "malformed JSON"),
        (#"{"game": "bilinear", "A": [[1, true]], "x0": [1, 2, 3]}"#, "'A'[0][1] must be a number"),
        (#"{"game": "bilinear", "A": [[1, "2"]], "x0": [1, 2, 3]}"#, "'A'[0][1] must be a number"),
        (#"{"game": "bilinear", "x0": [1, 2, 3]}"#, "missing key 'A'"),
        (#"{"game": "bilinear", "A": [[1, 2]], "x0": [1, 2, 3], "B": 1}"#, "unknown key 'B'"),
        (#"{"game": "quadratic"}"#, "unknown game 'quadratic'"),
        (#"[1, 2]"#, "JSON object"),
    ])
    func badFiles(text: String, expected: String) {
        let m = message(text)
        #expect(m.contains(expected), "got: \(m)")
        #expect(!m.contains("\n"))
    }

    @Test func missingFile() {
        #expect(throws: GameFlowError.invalidInput("game file '/nonexistent/g.json' does not exist")) {
            try GameFile.load(path: "/nonexistent/g.json")
        }
    }

    @Test("0 and 1 are numbers, not booleans")
    func zeroAndOne() throws {
        let f = try parse(#"{"game": "bilinear", "A": [[0, 1]], "x0": [1, 0, 1]}"#)
        #expect(f.initialState == [1, 0, 1])
    }
}
