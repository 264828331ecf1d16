import Foundation

/// A flow as a value, `Codable`: the game, x₀, the field modifiers, the GSL stepper with its
/// tolerances and work bound, the end time and the output interval. `gameflow flow` stores it as
/// `configuration` in summary.json, and `gameflow flow --config FILE` (a summary.json or a bare
/// configuration) integrates it again, to the same bits.
public struct FlowConfiguration: Codable, Sendable, Equatable {
    /// The game (`GameRunConfiguration.GameSource`).
    public var game: GameRunConfiguration.GameSource
    /// x(0).
    public var initialState: [Double]
    /// The Nagarajan–Kolter penalty η (nil: none).
    public var nkPenalty: Double?
    /// Per-player time scales of the field (nil: none).
    public var stepScale: [Double]?
    /// The GSL odeiv2 stepper.
    public var method: FlowMethod
    /// The error control's relative and absolute tolerances.
    public var relativeTolerance: Double, absoluteTolerance: Double
    /// Accepted steps at most (the flow ends failed, bound exceeded, beyond).
    public var maxSteps: Int
    /// The end time T > 0.
    public var time: Double
    /// The output interval (nil: T/1000).
    public var every: Double?

    /// A configuration from its parts.
    public init(game: GameRunConfiguration.GameSource, initialState: [Double], nkPenalty: Double?, stepScale: [Double]?, method: FlowMethod,
                relativeTolerance: Double, absoluteTolerance: Double, maxSteps: Int, time: Double, every: Double?) {
        self.game = game
        self.initialState = initialState
        self.nkPenalty = nkPenalty
        self.stepScale = stepScale
        self.method = method
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
        self.time = time
        self.every = every
    }

    /// The field integrated: the NK penalty, then the time scales (as a run's).
    public func makeGame() throws -> any Game {
        try game.field(nkPenalty: nkPenalty, stepScale: stepScale, initialState: initialState)
    }

    /// The stepper's options (checked).
    public func options() throws -> FlowOptions {
        let o = FlowOptions(method: method, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance, maxSteps: maxSteps)
        try o.validate()
        return o
    }

    /// The output times 0, Δ, 2Δ, …, T (Δ = `every`, default T/1000).
    /// - Throws: for T or Δ not finite and > 0, or more than 10⁶ outputs.
    public func outputTimes() throws -> [Double] {
        return try FlowConfiguration.outputTimes(time: time, every: every)
    }

    /// The output times for end time `time` and interval `every` (default time/1000).
    public static func outputTimes(time: Double, every: Double?) throws -> [Double] {
        guard time.isFinite, time > 0 else { throw GameFlowError.invalidInput("time must be a finite number > 0 (got \(time))") }
        let dt = every ?? time / 1000
        guard dt.isFinite, dt > 0 else { throw GameFlowError.invalidInput("every must be a finite number > 0 (got \(dt))") }
        let intervals = (time / dt).rounded(.up)
        guard intervals <= 1_000_000 else { throw GameFlowError.invalidInput("time/every asks for \(intervals) outputs (limit 1000000)") }
        let count = max(1, Int(intervals))
        return (0...count).map { min(time, Double($0) * dt) }.reduce(into: [Double]()) { if $0.last != $1 { $0.append($1) } }
    }

    /// The configuration as JSON (snake_case keys, sorted).
    public var json: JSON { configurationJSON(self) }

    /// Reads a configuration: a bare one, or the `configuration` of a flow's summary.json.
    public static func load(_ path: String) throws -> FlowConfiguration { try loadConfiguration(path) }
}
