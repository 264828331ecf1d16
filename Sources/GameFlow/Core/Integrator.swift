/// Options of one run. There is no default step size: h is always the caller's choice.
public struct SolveOptions: Sendable {
    /// h > 0.
    public var stepSize: Double
    /// Steps to take at most (≥ 1).
    public var maxSteps: Int
    /// Stop with `.converged` once ‖v(x)‖₂ ≤ tolerance (costs one monitored evaluation per step).
    public var tolerance: Double?
    /// Stop with `.diverged` once max |xᵢ| exceeds this (or any entry is non-finite).
    public var divergenceBound: Double
    /// What to record, and how often. Default: nothing.
    public var recording: Recording.Options?
    /// Fixed steps of size `stepSize` (default), or error control on the scheme's embedded
    /// estimate with `stepSize` as the first trial and largest step (`StepSizeControl`).
    public var stepSizeControl: StepSizeControl

    /// A run of at most `maxSteps` steps of size `stepSize` (both required: there is no default step size).
    /// - Parameters:
    ///   - stepSize: h > 0.
    ///   - maxSteps: K ≥ 1.
    ///   - tolerance: stop with `converged` once ‖v‖₂ ≤ this.
    ///   - divergenceBound: stop with `diverged` once max |xᵢ| exceeds this.
    ///   - recording: what to record (nil: nothing).
    ///   - stepSizeControl: fixed steps (default) or error control (`StepSizeControl`).
    public init(stepSize: Double, maxSteps: Int, tolerance: Double? = nil,
                divergenceBound: Double = 1e12, recording: Recording.Options? = nil, stepSizeControl: StepSizeControl = .fixed) {
        self.stepSize = stepSize
        self.maxSteps = maxSteps
        self.tolerance = tolerance
        self.divergenceBound = divergenceBound
        self.recording = recording
        self.stepSizeControl = stepSizeControl
    }

    /// The most steps a run may ask for (10¹⁵: step counts, indices and their sums stay exact in
    /// Int and in Double, and no run here gets near it).
    public static let maxStepsLimit = 1_000_000_000_000_000

    /// Throws a clear error for h ≤ 0 or non-finite, maxSteps < 1 or above `maxStepsLimit`, a bad tolerance or bound.
    public func validate() throws {
        guard stepSize.isFinite, stepSize > 0 else {
            throw GameFlowError.invalidInput("step size must be a finite number > 0 (got \(stepSize))")
        }
        guard maxSteps >= 1 else { throw GameFlowError.invalidInput("steps must be at least 1 (got \(maxSteps))") }
        guard maxSteps <= SolveOptions.maxStepsLimit else {
            throw GameFlowError.invalidInput("steps must be at most \(SolveOptions.maxStepsLimit) (got \(maxSteps))")
        }
        if let t = tolerance, !(t.isFinite && t >= 0) {
            throw GameFlowError.invalidInput("tolerance must be a finite number ≥ 0 (got \(t))")
        }
        guard divergenceBound > 0 else {
            throw GameFlowError.invalidInput("divergence bound must be > 0 (got \(divergenceBound))")
        }
        if let r = recording, r.every < 1 {
            throw GameFlowError.invalidInput("recording interval must be at least 1 (got \(r.every))")
        }
        try stepSizeControl.errorControl?.validate()
    }
}

/// Cheap per-step quantities recorded every k steps (and at step 0 and at the end).
public struct Recording: Sendable {
    /// What a recording can hold at each recorded step.
    public enum Quantity: String, Sendable, CaseIterable {
        /// ‖v(x)‖₂ (one monitored evaluation per record).
        case vectorFieldNorm = "vector_field_norm"
        /// ‖x − x̄‖₂ for the game's known equilibrium x̄ (NaN when none is known).
        case distanceToEquilibrium = "distance_to_equilibrium"
        /// ½‖x − x̄‖² (x̄ = 0 when no equilibrium is known): conserved by the exact flow of
        /// skew fields such as bilinear games and the unregularised Dirac-GAN.
        case energy
    }

    /// What to record and how often.
    public struct Options: Sendable {
        /// Record every this many steps (and the last).
        public var every: Int
        /// The scalars to record.
        public var quantities: [Quantity]
        /// Also keep the full state at each record.
        public var states: Bool

        /// Record `quantities` (and the states, if `states`) every `every` steps.
        public init(every: Int, quantities: [Quantity] = Quantity.allCases, states: Bool = false) {
            self.every = every
            self.quantities = quantities
            self.states = states
        }
    }

    /// What was asked for.
    public let options: Options
    /// n, the length of a recorded state.
    public let dimension: Int
    /// Step index of each record.
    public private(set) var steps: [Int] = []
    /// values[q][r]: quantity `options.quantities[q]` at record r.
    public private(set) var values: [[Double]]
    /// Flattened states (record r at r·dimension ..< (r+1)·dimension), when `options.states`.
    public private(set) var states: [Double] = []
    /// The last step's size at each record, under error control (empty for fixed steps).
    public private(set) var stepSizes: [Double] = []
    /// Whether the steps are error controlled (then `stepSizes` is kept and written as `step_size`).
    public internal(set) var tracksStepSize = false

    init(options: Options, dimension: Int) {
        self.options = options
        self.dimension = dimension
        self.values = Array(repeating: [], count: options.quantities.count)
    }

    /// The number of records.
    public var count: Int { steps.count }

    /// The state at record r (requires `options.states`).
    public func state(at r: Int) -> [Double] { Array(states[(r * dimension)..<((r + 1) * dimension)]) }

    /// The recorded series of one quantity (empty if it was not recorded).
    public func series(_ q: Quantity) -> [Double] {
        options.quantities.firstIndex(of: q).map { values[$0] } ?? []
    }

    mutating func append(step: Int, state: [Double], values row: [Double], stepSize: Double? = nil) {
        if steps.last == step { return }
        steps.append(step)
        if tracksStepSize { stepSizes.append(stepSize ?? .nan) }
        for (q, v) in row.enumerated() { values[q].append(v) }
        if options.states { states.append(contentsOf: state) }
    }
}

/// The result of `Integrator.solve()`.
public struct Solution: Sendable {
    /// How the run ended.
    public let status: Status
    /// Completed steps.
    public let steps: Int
    /// The final state (the last finite one after divergence; the one before the failed step after a failure).
    public let finalState: [Double]
    /// The work done (field evaluations, products, root-solver iterations, …).
    public let stats: Stats
    /// ‖v(finalState)‖₂.
    public let vectorFieldNorm: Double
    /// The distance from finalState to the game's equilibria (to x̄ when it is the only one, to
    /// the set where there is a continuum: `Game.distanceToEquilibria`).
    public let distanceToEquilibrium: Double?
    /// The dimension of that set (0: an isolated equilibrium; nil: unknown).
    public var equilibriumSetDimension: Int? = nil
    /// What was recorded (nil unless asked for in `SolveOptions`).
    public let recording: Recording?
    /// The ODE time the run covered: h × steps, or the sum of the accepted steps under error control.
    public var time: Double = 0
    /// The averaged iterate, with ‖v‖ and the distance to the equilibria there (schemes wrapped
    /// in `Averaged`; nil otherwise).
    public var average: (state: [Double], vectorFieldNorm: Double, distanceToEquilibrium: Double?)? = nil
}

/// Everything a run needs to continue bit for bit: the state, the step count (which keys a
/// stochastic game's minibatches), the work counters, what the scheme carries between
/// steps (optimizer moments, optimistic's previous v) and the step-size controller's state.
public struct Checkpoint: Sendable, Equatable {
    /// The state x after `stepsCompleted` steps.
    public var state: [Double]
    /// Steps taken (it keys the minibatches of stochastic games).
    public var stepsCompleted: Int
    /// The work counters so far.
    public var stats: Stats
    /// What the scheme carries between steps (`Scheme.carried`).
    public var carried: [Double]
    /// The error controller's next trial step, time covered and last step (empty for fixed steps).
    public var control: [Double]

    /// A checkpoint from its parts (as read back from disk).
    public init(state: [Double], stepsCompleted: Int, stats: Stats, carried: [Double], control: [Double] = []) {
        self.state = state
        self.stepsCompleted = stepsCompleted
        self.stats = stats
        self.carried = carried
        self.control = control
    }
}

/// Integrates dx/dt = v(x) with one scheme, at a fixed step size or under error control
/// (`SolveOptions.stepSizeControl`: the integrator owns the step-size controller).
///
/// `step()` advances one step; `solve()` is exactly the loop of `step()` (one code path).
/// All buffers are made in `init`; a step allocates nothing beyond what the game does, and
/// nothing per step is stored unless `options.recording` asks for it.
public struct Integrator<G: Game, S: Scheme> {
    /// The game integrated.
    public let game: G
    /// The scheme.
    public let scheme: S
    /// The step size, step budget, stopping rules and recording.
    public let options: SolveOptions
    /// The current state.
    public private(set) var state: [Double]
    /// Completed steps.
    public private(set) var stepsCompleted = 0
    /// The work counters so far.
    public private(set) var stats = Stats()
    /// nil while running; the terminal status once reached.
    public private(set) var status: Status?
    /// What has been recorded so far.
    public private(set) var recording: Recording?

    private var cache: S.Cache
    /// The error controller (nil for fixed steps).
    private let controller: ErrorController?
    private var previous: [Double]
    private var monitor: [Double]
    private var quantityRow: [Double]

    /// An integrator at x₀ = `initialState`, with the scheme's buffers made once.
    /// - Throws: `GameFlowError.invalidInput` for bad options or an initial state of the wrong
    ///   length or with non-finite entries; errors from the scheme's cache (e.g. solver allocation).
    public init(game: G, scheme: S, initialState: [Double], options: SolveOptions) throws {
        try self.init(game: game, scheme: scheme, initialState: initialState, options: options, stepsCompleted: 0, stats: Stats())
    }

    private init(game: G, scheme: S, initialState: [Double], options: SolveOptions, stepsCompleted: Int, stats: Stats) throws {
        try options.validate()
        try game.validatePlayers()
        guard initialState.count == game.dimension else {
            throw GameFlowError.invalidInput(
                "initial state has \(initialState.count) entries, the game has dimension \(game.dimension)")
        }
        guard initialState.allSatisfy(\.isFinite) else {
            throw GameFlowError.invalidInput("initial state has a non-finite entry")
        }
        if let eq = game.equilibrium, eq.count != game.dimension {
            throw GameFlowError.invalidInput("equilibrium has \(eq.count) entries, the game has dimension \(game.dimension)")
        }
        self.game = game
        self.scheme = scheme
        self.options = options
        self.state = initialState
        self.stepsCompleted = stepsCompleted
        self.stats = stats
        self.cache = try scheme.makeCache(for: game)
        if let e = options.stepSizeControl.errorControl {
            guard scheme.errorOrder(cache) != nil else {
                throw GameFlowError.invalidInput("\(scheme.name) has no error estimate, so its steps cannot be error controlled: the step-size control needs an embedded pair (rkf45, rkck, rk8pd), alone or inside rmsprop, adam, momentum or averaging")
            }
            self.controller = try ErrorController(e, dimension: game.dimension)
        } else {
            self.controller = nil
        }
        self.previous = initialState
        self.monitor = [Double](repeating: 0, count: game.dimension)
        self.quantityRow = [Double](repeating: 0, count: options.recording?.quantities.count ?? 0)
        self.recording = options.recording.map { Recording(options: $0, dimension: game.dimension) }
        recording?.tracksStepSize = controller != nil
        let vNorm = options.tolerance == nil ? nil : monitoredNorm()
        record(vNorm: vNorm)
        if let v = vNorm, !v.isFinite { status = .diverged("step 0: the field v is not finite at the initial state (non-finite field)") }
        else if let tol = options.tolerance, let v = vNorm, v <= tol { status = .converged }
    }

    /// The run so far, to save and continue later with `init(game:scheme:resumingFrom:options:)`.
    public var checkpoint: Checkpoint {
        Checkpoint(state: state, stepsCompleted: stepsCompleted, stats: stats, carried: scheme.carried(cache),
                   control: controller?.state ?? [])
    }

    /// The ODE time covered so far: h × steps, or the sum of the accepted steps under error control.
    public var time: Double { controller?.time ?? options.stepSize * Double(stepsCompleted) }

    /// The last accepted step under error control (0 before the first); nil for fixed steps.
    public var lastStepSize: Double? { controller?.last }

    /// Continues a run from `checkpoint` (same game and scheme): the steps that follow are
    /// bit-identical to those of the run that was saved. `options.maxSteps` counts from step 0,
    /// so it may extend the run. A recording, if asked for, starts at the checkpoint's step.
    /// - Throws: as `init(game:scheme:initialState:options:)`, and `GameFlowError.invalidInput`
    ///   when the checkpoint does not fit the scheme or has a negative step count.
    public init(game: G, scheme: S, resumingFrom checkpoint: Checkpoint, options: SolveOptions) throws {
        guard checkpoint.stepsCompleted >= 0 else {
            throw GameFlowError.invalidInput("checkpoint has a negative step count (\(checkpoint.stepsCompleted))")
        }
        try self.init(game: game, scheme: scheme, initialState: checkpoint.state, options: options,
                      stepsCompleted: checkpoint.stepsCompleted, stats: checkpoint.stats)
        try scheme.restoreCarried(checkpoint.carried, into: &cache)
        if let c = controller {
            try c.restore(checkpoint.control)
        } else if !checkpoint.control.isEmpty {
            throw GameFlowError.invalidInput("the checkpoint is from an error-controlled run (it keeps the controller's state); resume it with the same step-size control")
        }
        if status == nil, stepsCompleted >= options.maxSteps { status = .completed }
    }

    /// Takes one step unless the run has ended. Returns the terminal status once reached, nil otherwise.
    @discardableResult
    public mutating func step() -> Status? {
        if let s = status { return s }
        copyValues(state, into: &previous)
        var context = StepContext(game: game, step: stepsCompleted)
        let result: StepResult
        if let c = controller {
            result = c.step(&state, start: previous, h: options.stepSize, scheme: scheme, cache: &cache, context: &context)
        } else {
            result = scheme.step(&state, h: options.stepSize, cache: &cache, context: &context)
        }
        add(context.stats)
        if case .failure(let reason) = result {
            copyValues(previous, into: &state)
            return finish(.failed("step \(stepsCompleted + 1): \(reason)"))
        }
        let size = maxAbs(state)
        if !size.isFinite || size > options.divergenceBound {
            copyValues(previous, into: &state)
            let what = size.isFinite ? "max |x| = \(size) exceeds the divergence bound \(options.divergenceBound)"
                                     : "state became non-finite"
            return finish(.diverged("step \(stepsCompleted + 1): \(what); last finite state kept"))
        }
        stepsCompleted += 1
        var vNorm: Double?
        if let tol = options.tolerance {
            let v = monitoredNorm()
            vNorm = v
            // A field that is NaN or infinite at a finite state (log of a negative number, say)
            // ends the run: it is no convergence, whatever the norm's comparison says.
            if !v.isFinite {
                stepsCompleted -= 1
                copyValues(previous, into: &state)
                return finish(.diverged("step \(stepsCompleted + 1): the field v is not finite at the new state (non-finite field); the last state with a finite field kept"))
            }
            if v <= tol {
                record(vNorm: v, force: true)
                return finish(.converged)
            }
        }
        if let every = options.recording?.every, stepsCompleted % every == 0 { record(vNorm: vNorm) }
        if stepsCompleted >= options.maxSteps {
            record(vNorm: vNorm, force: true)
            return finish(.completed)
        }
        return nil
    }

    /// Under error control, steps until the ODE time is `t` (the step that would pass it lands
    /// on it exactly, as GSL's evolve does for its t1) or the run ends. Returns the terminal
    /// status if one was reached (the time may then be short of t), nil otherwise.
    @discardableResult
    public mutating func advance(to t: Double) -> Status? {
        guard let c = controller else {
            return finish(.failed("advance(to:) needs error-controlled steps (StepSizeControl.errorControl)"))
        }
        c.limit = t
        defer { c.limit = nil }
        while c.time < t {
            if let s = step() { return s }
        }
        return nil
    }

    /// Steps until a terminal status. `progress`, if given, is called every `progressEvery` steps.
    public mutating func solve(progressEvery: Int = 1000, progress: ((Integrator) -> Void)? = nil) -> Solution {
        while step() == nil {
            if let p = progress, stepsCompleted % max(1, progressEvery) == 0 { p(self) }
        }
        let vNorm = monitoredNorm()
        // A run that ends where v is not finite (its last step landed where the field is NaN,
        // with no tolerance to look at v each step) has not completed: it diverged.
        if !vNorm.isFinite, status!.isSuccessful {
            status = .diverged("step \(stepsCompleted): the field v is not finite at the final state (non-finite field)")
        }
        var average: (state: [Double], vectorFieldNorm: Double, distanceToEquilibrium: Double?)?
        if let a = averagedState {
            stats.monitorEvaluations += 1
            average = (a, norm2(game.vectorField(at: a, step: stepsCompleted)), game.distanceToEquilibria(from: a))
        }
        var solution = Solution(status: status!, steps: stepsCompleted, finalState: state, stats: stats,
                                vectorFieldNorm: vNorm,
                                distanceToEquilibrium: game.distanceToEquilibria(from: state),
                                equilibriumSetDimension: game.equilibriumSetDimension,
                                recording: recording,
                                time: time)
        solution.average = average
        return solution
    }

    /// The average of the iterates so far, when the scheme keeps one (`Averaged`).
    public var averagedState: [Double]? {
        func open<A: IterateAveraging>(_ a: A) -> [Double]? { a.average(cache as! A.Cache) }
        guard let a = scheme as? any IterateAveraging else { return nil }
        return open(a)
    }

    // MARK: - Private

    private mutating func finish(_ s: Status) -> Status {
        status = s
        if !s.isSuccessful { record(vNorm: nil, force: true) }
        return s
    }

    private mutating func add(_ s: Stats) { stats += s }

    private mutating func monitoredNorm() -> Double {
        stats.monitorEvaluations += 1
        game.evaluate(at: state, step: stepsCompleted, into: &monitor)
        return norm2(monitor)
    }

    private mutating func record(vNorm: Double?, force: Bool = false) {
        guard let opts = options.recording else { return }
        if !force && stepsCompleted % opts.every != 0 { return }
        if recording?.steps.last == stepsCompleted { return }
        for (q, quantity) in opts.quantities.enumerated() {
            switch quantity {
            case .vectorFieldNorm:
                quantityRow[q] = vNorm ?? monitoredNorm()
            case .distanceToEquilibrium:
                quantityRow[q] = game.distanceToEquilibria(from: state) ?? .nan
            case .energy:
                quantityRow[q] = game.energy(at: state)
            }
        }
        let stepSize = controller?.last
        recording?.append(step: stepsCompleted, state: state, values: quantityRow, stepSize: stepSize)
    }
}
