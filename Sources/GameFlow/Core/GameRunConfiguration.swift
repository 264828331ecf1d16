import Foundation

/// A run of a game (`gameflow run`) as a value: the game, its start, the field modifiers, the
/// scheme with its own knobs, the optimizer, the step size and the stopping rules. `Codable`
/// (a run's summary.json stores it as `configuration`; `gameflow run --config FILE` runs one
/// again) and the one place that builds the run's game and scheme.
public struct GameRunConfiguration: Codable, Sendable, Equatable {
    /// Where the game comes from.
    public enum GameSource: Codable, Sendable, Equatable {
        /// `BilinearGame.random(rows: dim, columns: dim, seed:)`.
        case bilinear(dim: Int, seed: UInt64)
        /// The Dirac-GAN with R1 weight `r1`.
        case dirac(r1: Double)
        /// A JSON game file (bilinear, affine or formula utilities).
        case file(path: String)

        /// The game as given (without field modifiers).
        public func make() throws -> any Game {
            switch self {
            case let .bilinear(dim, seed):
                guard (1...10_000).contains(dim) else { throw GameFlowError.invalidInput("game.dim must be between 1 and 10000 (got \(dim))") }
                return try BilinearGame.random(rows: dim, columns: dim, seed: seed)
            case let .dirac(r1): return try DiracGAN(r1: r1)
            case let .file(path): return try GameFile.load(path: path).game
            }
        }

        /// The field a run or flow integrates: the NK penalty on the utilities, then the time
        /// scales; `initialState` must have the game's dimension.
        public func field(nkPenalty: Double?, stepScale: [Double]?, initialState: [Double]) throws -> any Game {
            let g = try make().nkPenalized(nkPenalty).timeScaled(stepScale.map { try StepScale($0) })
            guard initialState.count == g.dimension else {
                throw GameFlowError.invalidInput("initial_state has \(initialState.count) entries, the game has dimension \(g.dimension)")
            }
            return g
        }
    }

    /// The game.
    public var game: GameSource
    /// x₀.
    public var initialState: [Double]
    /// The Nagarajan–Kolter penalty η (nil: none).
    public var nkPenalty: Double?
    /// Per-player time scales of the field (nil: none).
    public var stepScale: [Double]?
    /// The scheme and its knobs.
    public var scheme: SchemeConfiguration
    /// The optimizer around the scheme.
    public var optimizer: OptimizerConfiguration
    /// The step size h.
    public var step: Double
    /// Steps at most.
    public var steps: Int
    /// Stop converged once ‖v‖₂ ≤ this (nil: never).
    public var tolerance: Double?
    /// Stop diverged once max |xᵢ| exceeds this.
    public var divergenceBound: Double
    /// Lookahead around the scheme and its optimizer (nil: none).
    public var lookahead: LookaheadConfiguration?
    /// Iterate averaging, reported beside the last iterate (nil: none).
    public var average: AveragingConfiguration?

    /// A configuration from its parts.
    public init(game: GameSource, initialState: [Double], nkPenalty: Double?, stepScale: [Double]?, scheme: SchemeConfiguration,
                optimizer: OptimizerConfiguration, step: Double, steps: Int, tolerance: Double?, divergenceBound: Double) {
        self.game = game
        self.initialState = initialState
        self.nkPenalty = nkPenalty
        self.stepScale = stepScale
        self.scheme = scheme
        self.optimizer = optimizer
        self.step = step
        self.steps = steps
        self.tolerance = tolerance
        self.divergenceBound = divergenceBound
    }

    /// The game as given (without the field modifiers).
    public func makeBaseGame() throws -> any Game { try game.make() }

    /// The field the run integrates: the NK penalty on the utilities, then the time scales.
    public func makeGame() throws -> any Game {
        try game.field(nkPenalty: nkPenalty, stepScale: stepScale, initialState: initialState)
    }

    /// The scheme with its optimizer, for a game whose discriminator is player `discriminator`.
    public func makeScheme(discriminator: Int) throws -> any Scheme {
        let s = try optimizer.wrap(try scheme.make(discriminator: discriminator, metric: optimizer.preconditioner), solvesInMetric: scheme.solvesInMetric)
        let l = try lookahead?.wrap(s) ?? s
        return try average?.wrap(l) ?? l
    }

    /// The stopping rules and step size.
    public var options: SolveOptions {
        SolveOptions(stepSize: step, maxSteps: steps, tolerance: tolerance, divergenceBound: divergenceBound,
                     stepSizeControl: scheme.stepSizeControl)
    }

    /// The configuration as JSON (snake_case keys, sorted).
    public var json: JSON { configurationJSON(self) }

    /// Reads a configuration: a bare one, or the `configuration` of a run's summary.json.
    public static func load(_ path: String) throws -> GameRunConfiguration { try loadConfiguration(path) }
}

/// A comparison (`gameflow compare`) as a value: runs of one game from one start with the same
/// field modifiers, step size and number of steps, one per scheme (each with its own knobs,
/// optimizer and stopping rules). A comparison's summary.json stores it as `configuration`;
/// `gameflow compare --config FILE` runs it again.
public struct CompareConfiguration: Codable, Sendable, Equatable {
    /// The runs, in the order they are made and reported.
    public var runs: [GameRunConfiguration]

    /// A comparison of these runs (checked: `validate`).
    public init(runs: [GameRunConfiguration]) throws {
        self.runs = runs
        try validate()
    }

    /// The runs share what a comparison holds fixed; the error names the first that does not.
    public func validate() throws {
        guard let first = runs.first else { throw GameFlowError.invalidInput("runs: a comparison needs at least one run") }
        for (i, r) in runs.enumerated().dropFirst() {
            guard r.game == first.game, r.initialState == first.initialState, r.nkPenalty == first.nkPenalty, r.stepScale == first.stepScale,
                  r.step == first.step, r.steps == first.steps else {
                throw GameFlowError.invalidInput("runs[\(i)]: a comparison's runs share the game, initial_state, nk_penalty, step_scale, step and steps (runs[0]'s)")
            }
        }
    }

    /// The configuration as JSON (snake_case keys, sorted).
    public var json: JSON { configurationJSON(self) }

    /// Reads a comparison: a bare one, or the `configuration` of a comparison's summary.json.
    public static func load(_ path: String) throws -> CompareConfiguration {
        let c: CompareConfiguration = try loadConfiguration(path)
        do { try c.validate() } catch let e as GameFlowError { throw GameFlowError.invalidInput("configuration file '\(path)': \(e.description)") }
        return c
    }
}

/// `value` as JSON with snake_case keys, sorted (what summaries store).
func configurationJSON<T: Encodable>(_ value: T) -> JSON {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    // Encoding plain values and enums cannot fail; parsing what JSONEncoder wrote neither.
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return (try? JSON.parse(data)) ?? .null
}

/// A configuration from the file at `path`: a bare one, or the `configuration` of a summary or
/// checkpoint. Errors name the file and the field.
func loadConfiguration<T: Decodable>(_ path: String) throws -> T {
    let data = try readInput(path, what: "configuration file", limit: 1 << 24)
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw GameFlowError.invalidInput("configuration file '\(path)' is not a JSON object")
    }
    let inner = object["configuration"] ?? object
    guard JSONSerialization.isValidJSONObject(inner), let bytes = try? JSONSerialization.data(withJSONObject: inner) else {
        throw GameFlowError.invalidInput("configuration file '\(path)' has no configuration object")
    }
    return try decodeConfiguration(bytes, source: "configuration file '\(path)'")
}

/// Decodes a configuration from JSON bytes (snake_case keys); errors name `source` and the field.
func decodeConfiguration<T: Decodable>(_ bytes: Data, source: String) throws -> T {
    func path(_ keys: [CodingKey]) -> String { keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do {
        return try decoder.decode(T.self, from: bytes)
    } catch let DecodingError.keyNotFound(key, context) {
        throw GameFlowError.invalidInput("\(source): missing '\(path(context.codingPath + [key]))'")
    } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
        throw GameFlowError.invalidInput("\(source): '\(path(context.codingPath))' has the wrong type")
    } catch let DecodingError.dataCorrupted(context) {
        throw GameFlowError.invalidInput("\(source): '\(path(context.codingPath))': \(context.debugDescription)")
    } catch let e as GameFlowError {
        throw GameFlowError.invalidInput("\(source): \(e)")
    } catch {
        throw GameFlowError.invalidInput("\(source): \(error)")
    }
}
