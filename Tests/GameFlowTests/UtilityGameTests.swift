import Foundation
import Numerics
import Testing
@testable import GameFlow

/// The quartic game with x maximising f = xy − x²/2 + y²/2 + x⁴/4 − y⁴/4, written once generically.
struct QuarticUtility: ZeroSumUtility {
    func f<T: GameScalar>(_ x: [T]) -> T {
        let a = x[0], b = x[1]
        return a * b - a * a / T(2) + b * b / T(2) + T.power(a, 4) / T(4) - T.power(b, 4) / T(4)
    }
}

@Suite struct UtilityGameTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("Automatic derivatives are the closed forms: v, v′u, v′ᵀu and the dense v′ of the quartic game (1e-14)")
    func closedForms() throws {
        let game = try UtilityGame(QuarticUtility(), playerSizes: [1, 1])
        for x in [[0.3, -0.7], [1.2, 0.4], [-2.0, 1.5]] {
            let (a, b) = (x[0], x[1])
            let v = game.vectorField(at: x)
            // v = (∂f/∂x, −∂f/∂y)
            #expect(abs(v[0] - (b - a + a * a * a)) < 1e-14 && abs(v[1] - -(a + b - b * b * b)) < 1e-14)
            let j = game.jacobianMatrix(at: x)
            let exact = [-1 + 3 * a * a, 1.0, -1, -1 + 3 * b * b]
            #expect(maxRelativeDifference(j.storage, exact) < 1e-14, "\(j.storage)")
            let u = [0.7, -1.3]
            var jvp = [0.0, 0], vjp = [0.0, 0]
            game.jacobianVectorProduct(at: x, u, step: 0, into: &jvp)
            game.transposeJacobianVectorProduct(at: x, u, step: 0, into: &vjp)
            #expect(abs(jvp[0] - (exact[0] * u[0] + exact[1] * u[1])) < 1e-13 && abs(jvp[1] - (exact[2] * u[0] + exact[3] * u[1])) < 1e-13)
            #expect(abs(vjp[0] - (exact[0] * u[0] + exact[2] * u[1])) < 1e-13 && abs(vjp[1] - (exact[1] * u[0] + exact[3] * u[1])) < 1e-13)
        }
        #expect(game.hasExactDerivatives)
    }

    @Test("Three players, several variables each: products agree with finite differences (relative 1e-6)")
    func threePlayers() throws {
        let text = ["a*b*c - a^2 + sin(x)*y", "log1p(y^2) + b*exp(-c) - b^4/4 + a*x", "tanh(c*x) - c^2/2 + softplus(a - y)"]
        let names = ["a", "x", "b", "c", "y"]
        let game = try UtilityGame(FormulaUtilities(try text.map { try Formula.parse($0, variables: names) }), playerSizes: [2, 1, 2])
        let x = [0.3, -0.8, 1.1, 0.5, -0.4], u = [0.2, 1.0, -0.7, 0.4, 0.9]
        var jvp = [Double](repeating: 0, count: 5), fd = jvp, vjp = jvp
        game.jacobianVectorProduct(at: x, u, step: 0, into: &jvp)
        game.finiteDifferenceJVP(at: x, u, step: 0, into: &fd)
        #expect(maxRelativeDifference(jvp, fd) < 1e-6, "\(jvp) vs \(fd)")
        let j = game.jacobianMatrix(at: x)
        game.transposeJacobianVectorProduct(at: x, u, step: 0, into: &vjp)
        for c in 0..<5 { #expect(abs(vjp[c] - (0..<5).reduce(0) { $0 + j[$1, c] * u[$1] }) < 1e-13) }
        // Player blocks: evaluating one player's block gives those entries of v.
        var block = [Double](repeating: .nan, count: 5)
        game.evaluate(at: x, step: 0, player: 2, into: &block)
        let v = game.vectorField(at: x)
        #expect(block[3] == v[3] && block[4] == v[4])
    }

    @Test("The zoo's Dirac-GAN as utilities equals the built-in one to 1e-15 (field and Jacobian), with and without R1")
    func diracMatches() throws {
        for (file, r1) in [("dirac.json", 0.0), ("dirac-r1.json", 0.3)] {
            let zoo = try GameFile.load(path: Self.root.appendingPathComponent("zoo/\(file)").path).game
            let builtIn = try DiracGAN(r1: r1)
            for x in [[1.0, 1.0], [0.3, -2.0], [-1.5, 0.7], [0, 0]] {
                let a = zoo.vectorField(at: x), b = builtIn.vectorField(at: x)
                #expect(abs(a[0] - b[0]) <= 1e-15 && abs(a[1] - b[1]) <= 1e-15, "\(file) \(x): \(a) vs \(b)")
                let ja = zoo.jacobianMatrix(at: x), jb = builtIn.jacobianMatrix(at: x)
                #expect(zip(ja.storage, jb.storage).allSatisfy { abs($0 - $1) <= 1e-15 }, "\(file) \(x)")
            }
        }
    }

    @Test("Every zoo game loads; v vanishes at its listed equilibrium and v′ there has the listed eigenvalues")
    func zoo() throws {
        let expected: [String: [Complex<Double>]] = [
            "quartic": [Complex(1, -1), Complex(1, 1)],
            "dirac": [Complex(0, -0.5), Complex(0, 0.5)],
            "matching-pennies": [Complex(0, -0.25), Complex(0, 0.25)],
            "hamiltonian": [Complex(0, -2), Complex(0, -1), Complex(0, 1), Complex(0, 2)],
            "balduzzi": [Complex(-1, -10), Complex(-1, 10)],
            "tandem": [Complex(-4, 0), Complex(0, 0)],
        ]
        let dir = Self.root.appendingPathComponent("zoo")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
        #expect(files.count >= 7)
        for file in files {
            let g = try GameFile.load(path: dir.appendingPathComponent(file).path).game
            let eq = try #require(g.equilibrium, "\(file)")
            #expect(norm2(g.vectorField(at: eq)) < 1e-12, "\(file)")
            if let want = expected[g.name] {
                let got = try eigenvalues(of: g.jacobianMatrix(at: eq))
                #expect(got.count == want.count)
                for w in want { #expect(got.map { ($0 - w).length }.min()! < 1e-12, "\(file): \(w) not in \(got)") }
            }
        }
    }

    @Test("Grammar: precedence, associativity, unary minus, every JSON number form, functions and kinks")
    func grammar() throws {
        func value(_ s: String, _ x: [Double] = [3, 2]) throws -> Double { try Formula.parse(s, variables: ["x", "y"]).evaluate(x) }
        #expect(try value("2^3^2") == 512)
        #expect(try value("-x^2") == -9)
        #expect(try value("2*3+4") == 10 && value("2+3*4") == 14 && value("(2+3)*4") == 20)
        #expect(try value("x - y - 1") == 0)
        #expect(try value("x / y / 3") == 0.5)
        #expect(try value("y^-2") == 0.25)
        #expect(try value("1e-3 + 2.5E+1 + 0.5 + 7E2") == 0.001 + 25 + 0.5 + 700)
        #expect(try value("min(x, y) + max(x, y) + abs(-x)") == 8)
        #expect(abs(try value("sigmoid(0) + softplus(0) + log1p(0) + tanh(0) + sqrt(4) + exp(0) + log(1) + sin(0) + cos(0)") - (0.5 + log(2) + 2 + 1 + 1)) < 1e-15)
        #expect(abs(try value("x^0.5") - 3.0.squareRoot()) < 1e-15)
        // Kinks: abs takes +1 at 0; min/max the first argument's derivative at a tie.
        let d = Dual<Double>(0, 1)
        #expect(try Formula.parse("abs(x)", variables: ["x"]).evaluate([d]).tangent == 1)
        #expect(try Formula.parse("max(x, 0)", variables: ["x"]).evaluate([d]).tangent == 1)
        #expect(try Formula.parse("min(0, x)", variables: ["x"]).evaluate([d]).tangent == 0)
    }

    @Test("Parse errors name the position and what was expected; unknown names, wrong arity and non-finite constants are errors")
    func parseErrors() throws {
        func message(_ s: String) -> String {
            do { _ = try Formula.parse(s, variables: ["x", "y"]); return "" } catch { return "\(error)" }
        }
        #expect(message("x*/y").contains("column 3") && message("x*/y").contains("expected a number, a name or '('"))
        #expect(message("(x + y").contains("expected ')'"))
        #expect(message("x + z").contains("unknown name 'z'") && message("x + z").contains("column 5"))
        #expect(message("foo(x)").contains("unknown function 'foo'"))
        #expect(message("min(x)").contains("min takes 2 arguments"))
        #expect(message("x + 1e999").contains("finite number"))
        #expect(message("x y").contains("column 3") && message("x y").contains("expected an operator or the end"))
        #expect(message("1.").contains("expected a digit after '.'"))
        #expect(message("").contains("column 1"))
    }

    @Test("Formula game files: bad files are one error naming the file, the utility, the position; nothing else is accepted")
    func fileErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gameflow-utility-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func error(_ json: String) -> String {
            let path = dir.appendingPathComponent("g.json").path
            try? json.write(toFile: path, atomically: true, encoding: .utf8)
            do { _ = try GameFile.load(path: path); return "" } catch { return "\(error)" }
        }
        let e1 = error(#"{"game": "utilities", "players": [["x"], ["y"]], "utilities": ["x*y", "x*+y"], "x0": [1, 1]}"#)
        #expect(e1.contains("g.json") && e1.contains("utility 2") && e1.contains("column 3"), "\(e1)")
        #expect(error(#"{"game": "utilities", "players": [["x"], ["y", "z"]], "utilities": ["x*y"], "x0": [1, 1, 1]}"#).contains("'z' appears in no utility"))
        #expect(error(#"{"game": "utilities", "players": [["x"], ["x"]], "utilities": ["x"], "x0": [1, 1]}"#).contains("listed twice"))
        #expect(error(#"{"game": "utilities", "players": [["x"], ["exp"]], "utilities": ["x"], "x0": [1, 1]}"#).contains("function's name"))
        #expect(error(#"{"game": "utilities", "players": [["x"], ["y"], ["w"]], "utilities": ["x*y*w", "x"], "x0": [1, 1, 1]}"#).contains("2 formulas for 3 players"))
        #expect(error(#"{"game": "utilities", "players": [["x"], ["y"]], "utilities": ["x*y"], "x0": [1]}"#).contains("'x0' has 1 entries"))
        #expect(error(#"{"game": "utilities", "players": [["x"], ["y"]], "utilities": ["x*y"], "x0": [1, 1], "equilibrium": [0]}"#).contains("'equilibrium' has 1"))
        #expect(error(#"{"game": "utilities", "players": [["x"], ["y"]], "utilities": ["x*y"], "x0": [1, 1], "extra": 1}"#).contains("unknown key 'extra'"))
        #expect(error(#"{"game": "utilities", "players": [["1x"], ["y"]], "utilities": ["y"], "x0": [1, 1]}"#).contains("is not a name"))
        // A good one, zero-sum: the second player's utility is −f.
        let path = dir.appendingPathComponent("ok.json").path
        try #"{"game": "utilities", "players": [["x"], ["y"]], "utilities": ["x*y"], "x0": [1, 2]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try GameFile.load(path: path)
        #expect(file.game.vectorField(at: [1, 2]) == [2, -1] && file.initialState == [1, 2])
    }
}

/// The must-shows of games written as utilities against the hand-written built-ins.
@Suite struct UtilityBuiltInAgreementTests {
    /// Utility versions of f = φᵀAθ (A 2×2), of an affine field with three one-variable players,
    /// and of the Dirac-GAN with R1 0.3.
    static func pairs() throws -> [(String, any Game, any Game, [Double])] {
        let a = Matrix(rows: 2, columns: 2, storage: [1.2, -0.4, 0.7, 2.1])
        let bilinear = try GameFile.parse(Data(#"{"game": "utilities", "players": [["p1", "p2"], ["t1", "t2"]], "utilities": ["1.2*p1*t1 - 0.4*p1*t2 + 0.7*p2*t1 + 2.1*p2*t2"], "x0": [1, 0.5, -0.3, 0.8]}"#.utf8)).game
        // v = Mx + b with one variable per player: player i maximises ½M_ii x_i² + Σ_{j≠i} M_ij x_i x_j + b_i x_i.
        let m = Matrix(rows: 3, columns: 3, storage: [-0.5, 1.0, 0.2, -1.0, -0.3, 0.4, 0.1, -0.6, -0.2])
        let b = [0.3, -0.1, 0.2]
        var utilities: [String] = []
        for i in 0..<3 {
            var terms = ["\(m[i, i] / 2)*x\(i)^2", "\(b[i])*x\(i)"]
            for j in 0..<3 where j != i { terms.append("\(m[i, j])*x\(i)*x\(j)") }
            utilities.append(terms.joined(separator: " + "))
        }
        let affineJSON = #"{"game": "utilities", "players": [["x0"], ["x1"], ["x2"]], "utilities": ["# + utilities.map { "\"\($0)\"" }.joined(separator: ", ") + #"], "x0": [1, 1, 1]}"#
        let affine = try GameFile.parse(Data(affineJSON.utf8)).game
        let root = UtilityGameTests.root
        let dirac = try GameFile.load(path: root.appendingPathComponent("zoo/dirac-r1.json").path).game
        return [("bilinear", bilinear, try BilinearGame(A: a), [1, 0.5, -0.3, 0.8]),
                ("affine", affine, try AffineGame(M: m, b: b, playerSizes: [1, 1, 1]), [1, -0.5, 0.7]),
                ("dirac", dirac, try DiracGAN(r1: 0.3), [1, 1])]
    }

    @Test("Bilinear, affine and Dirac-GAN games as utilities: v, v′u, v′ᵀu and v′ equal the built-ins to 1e-14 relative")
    func derivatives() throws {
        var rng = SeededGenerator(seed: 12)
        for (name, utility, builtIn, _) in try Self.pairs() {
            let n = builtIn.dimension
            for _ in 0..<3 {
                let x = randomVector(n, &rng), u = randomVector(n, &rng)
                #expect(maxRelativeDifference(utility.vectorField(at: x), builtIn.vectorField(at: x)) < 1e-14, "\(name) v")
                var a = [Double](repeating: 0, count: n), c = a
                utility.jacobianVectorProduct(at: x, u, step: 0, into: &a)
                builtIn.jacobianVectorProduct(at: x, u, step: 0, into: &c)
                #expect(maxRelativeDifference(a, c) < 1e-14, "\(name) v′u")
                utility.transposeJacobianVectorProduct(at: x, u, step: 0, into: &a)
                builtIn.transposeJacobianVectorProduct(at: x, u, step: 0, into: &c)
                #expect(maxRelativeDifference(a, c) < 1e-14, "\(name) v′ᵀu")
                #expect(maxRelativeDifference(utility.jacobianMatrix(at: x).storage, builtIn.jacobianMatrix(at: x).storage) < 1e-14, "\(name) v′")
            }
        }
    }

    @Test("Every fixed-step scheme ends at the same state on the utility game as on the built-in one (1e-13 relative)")
    func runs() throws {
        for (name, utility, builtIn, x0) in try Self.pairs() {
            // LOLA and SOS also compare utility gradients: automatic differentiation against the closed forms
            // (bilinear, Dirac-GAN; an AffineGame has no utilities of its own).
            // GDA-AM is left out: which differences its least squares keeps is discontinuous in
            // its data, so round-off differences in v can send the two runs different ways.
            for scheme in SchemeName.fixedStep where (!scheme.needsUtilityGradients || builtIn is any UtilityGradients) && scheme != .gdaAM {
                let s = try makeScheme(scheme)
                let options = SolveOptions(stepSize: 0.05, maxSteps: 40)
                let a = try solve(utility, scheme: s, from: x0, options: options)
                let b = try solve(builtIn, scheme: s, from: x0, options: options)
                #expect(maxRelativeDifference(a.finalState, b.finalState) < 1e-13, "\(name) \(scheme): \(a.finalState) vs \(b.finalState)")
            }
        }
    }

    @Test("On every zoo game v′u, v′ᵀu and the dense v′ agree with central finite differences (1e-7 relative)")
    func zooFiniteDifferences() throws {
        let dir = UtilityGameTests.root.appendingPathComponent("zoo")
        var rng = SeededGenerator(seed: 21)
        // Every game the zoo's README lists, and no other file: an empty or renamed zoo fails.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }.sorted()
        let readme = try String(contentsOf: dir.appendingPathComponent("README.md"), encoding: .utf8)
        let listed = readme.components(separatedBy: "\n| `").dropFirst().map { String($0.prefix { $0 != "`" }) }.sorted()
        #expect(files.count >= 7 && files == listed, "zoo files \(files), README lists \(listed)")
        var checked = 0
        defer { #expect(checked == files.count) }
        for file in files {
            checked += 1
            let g = try GameFile.load(path: dir.appendingPathComponent(file).path).game
            let n = g.dimension
            for _ in 0..<3 {
                let x = randomVector(n, &rng).map { 0.5 * $0 }, u = randomVector(n, &rng)
                var exact = [Double](repeating: 0, count: n), fd = exact
                g.jacobianVectorProduct(at: x, u, step: 0, into: &exact)
                g.finiteDifferenceJVP(at: x, u, step: 0, into: &fd)
                #expect(maxRelativeDifference(exact, fd) < 1e-7, "\(file): \(exact) vs \(fd)")
                // v′ᵀu and the dense v′ against the finite-difference Jacobian (column j = FD along eⱼ).
                var columns = [[Double]]()
                for j in 0..<n {
                    var e = [Double](repeating: 0, count: n), c = e
                    e[j] = 1
                    g.finiteDifferenceJVP(at: x, e, step: 0, into: &c)
                    columns.append(c)
                }
                let dense = g.jacobianMatrix(at: x)
                #expect(maxRelativeDifference(dense.storage, (0..<(n * n)).map { columns[$0 % n][$0 / n] }) < 1e-7, "\(file) v′")
                g.transposeJacobianVectorProduct(at: x, u, step: 0, into: &exact)
                let fdT = columns.map { c in zip(c, u).reduce(0) { $0 + $1.0 * $1.1 } }
                #expect(maxRelativeDifference(exact, fdT) < 1e-7, "\(file) v′ᵀu")
            }
        }
    }
}

@Suite struct EquilibriumSetDeclarationTests {
    static func tandem(directions: String?) throws -> any Game {
        let extra = directions.map { #", "equilibrium_directions": "# + $0 } ?? ""
        let json = #"{"game": "utilities", "players": [["x"], ["y"]], "utilities": ["-((x + y)^2 - 2*x)", "-((x + y)^2 - 2*y)"], "x0": [1, 1], "equilibrium": [0.5, 0.5]"# + extra + "}"
        return try GameFile.parse(Data(json.utf8)).game
    }

    @Test("Tandem's equilibria are the line x + y = 1: v = 0 there, distance 0 on it and |x + y − 1|/√2 off it, dimension 1")
    func tandemLine() throws {
        let game = try Self.tandem(directions: "[[2, -2]]")
        #expect(game.equilibriumSetDimension == 1)
        for t in [-3.0, 0, 0.25, 7] {
            let p = [0.5 + t, 0.5 - t]
            #expect(norm2(game.vectorField(at: p)) < 1e-12)
            #expect(try #require(game.distanceToEquilibria(from: p)) < 1e-12)
        }
        for p in [[1.0, 1.0], [0.0, 0.0], [3.0, -1.5]] {
            #expect(relativeError(try #require(game.distanceToEquilibria(from: p)), abs(p[0] + p[1] - 1) / 2.0.squareRoot()) < 1e-12)
        }
    }

    @Test("An equilibrium whose v′ is singular beyond the declared directions has no distance (unknown set); a regular one keeps it")
    func unknownSet() throws {
        let game = try Self.tandem(directions: nil)
        #expect(game.distanceToEquilibria(from: [1, 0]) == nil && game.equilibriumSetDimension == nil)
        let quartic = try GameFile.load(path: UtilityGameTests.root.appendingPathComponent("zoo/quartic.json").path).game
        #expect(relativeError(try #require(quartic.distanceToEquilibria(from: [0.3, 0.4])), 0.5) < 1e-15)
        #expect(quartic.equilibriumSetDimension == 0)
        // Dependent or mis-sized directions are one error each.
        for bad in ["[[1, -1], [-2, 2]]", "[[1, -1, 0]]", "[[0, 0]]"] {
            #expect(throws: GameFlowError.self) { _ = try Self.tandem(directions: bad) }
        }
    }
}
