/// What an observer of a run sees: at the start (before any step of this session), after every
/// step, and once more when the run ends.
public struct RunEvent {
    /// Why the observer is called.
    public enum Kind: Sendable, Equatable {
        /// Before the first step of this loop (a resumed run starts at its checkpoint's step).
        case start
        /// After a completed step.
        case step
    }

    /// Why the observer is called.
    public let kind: Kind
    /// Steps completed so far.
    public let step: Int
    /// The state after `step` steps.
    public let state: [Double]
    /// The work so far.
    public let stats: Stats
    /// The run's status once it has ended (nil while it goes on).
    public let status: Status?
    /// Whether this is the last event: the integrator ended, or a stop was requested.
    public let isLast: Bool
    /// Seconds spent inside `Integrator.step()` so far (with those of earlier sessions).
    public let trainingSeconds: Double
    /// The integrator's records so far (nil when it records nothing).
    public let recording: Recording?
}

/// An observer of a `TrainingLoop`: metrics, snapshots, checkpoints, progress. Errors thrown end
/// the run (the loop rethrows them).
public protocol RunObserver: AnyObject {
    /// `checkpoint` makes the checkpoint at this step on demand (a resumed run continues from it
    /// bit for bit); it is valid during the call only.
    func observe(_ event: RunEvent, checkpoint: () -> Checkpoint) throws
}

/// The training loop as a library layer: it steps an `Integrator` to its end (or until
/// `shouldStop`, given the steps completed, says so after a step), timing the steps, and tells
/// every observer about the start, every step and the end, in order. The command line only
/// configures observers (and stops on a signal).
public struct TrainingLoop<G: Game, S: Scheme> {
    /// The integrator stepped (its state when the loop returns).
    public var integrator: Integrator<G, S>
    /// Seconds inside `step()`, including `trainingSeconds` given at init (a resumed run's past).
    public private(set) var trainingSeconds: Double

    /// A loop over `integrator`; `trainingSeconds`: the time already spent (a resumed run's).
    public init(_ integrator: Integrator<G, S>, trainingSeconds: Double = 0) {
        self.integrator = integrator
        self.trainingSeconds = trainingSeconds
    }

    /// Runs to the end. Returns whether a stop was requested before the integrator ended.
    @discardableResult
    public mutating func run(observers: [any RunObserver], shouldStop: (Int) -> Bool = { _ in false }) throws -> Bool {
        try notify(observers, .start, isLast: integrator.status != nil)
        guard integrator.status == nil else { return false }
        let clock = ContinuousClock()
        while true {
            let begin = clock.now
            let status = integrator.step()
            let d = (clock.now - begin).components
            trainingSeconds += Double(d.seconds) + Double(d.attoseconds) * 1e-18
            let stopped = status == nil && shouldStop(integrator.stepsCompleted)
            try notify(observers, .step, isLast: status != nil || stopped)
            if status != nil { return false }
            if stopped { return true }
        }
    }

    private func notify(_ observers: [any RunObserver], _ kind: RunEvent.Kind, isLast: Bool) throws {
        guard !observers.isEmpty else { return }
        let event = RunEvent(kind: kind, step: integrator.stepsCompleted, state: integrator.state, stats: integrator.stats,
                             status: integrator.status, isLast: isLast, trainingSeconds: trainingSeconds,
                             recording: integrator.recording)
        for o in observers { try o.observe(event) { integrator.checkpoint } }
    }
}

/// Calls `body` at the start, every `every` steps (step k with k mod every = 0), at the steps in
/// `at`, and at the last event — at most once per step.
public final class EveryNSteps: RunObserver {
    /// The period in steps.
    public let every: Int
    /// Further steps to call at.
    public let at: Set<Int>
    private let body: (RunEvent, () -> Checkpoint) throws -> Void
    private var lastStep = -1

    /// Calls `body` every `every` steps, at the steps in `at`, at the start and at the end.
    public init(_ every: Int, at: Set<Int> = [], body: @escaping (RunEvent, () -> Checkpoint) throws -> Void) {
        self.every = max(1, every)
        self.at = at
        self.body = body
    }

    /// Whether `event` is on the schedule and its step not yet called at (it then counts as called).
    public func isDue(_ event: RunEvent) -> Bool {
        guard event.step != lastStep else { return false }
        guard event.kind == .start || event.isLast || event.step % every == 0 || at.contains(event.step) else { return false }
        lastStep = event.step
        return true
    }

    public func observe(_ event: RunEvent, checkpoint: () -> Checkpoint) throws {
        guard isDue(event) else { return }
        try withoutActuallyEscaping(checkpoint) { try body(event, $0) }
    }
}

/// Calls `body` once at least `interval` seconds of wall time have passed since its last call,
/// and at the last event (and at the start when `atStart`): checkpoints on a wall-clock schedule.
public final class EveryNSeconds: RunObserver {
    /// Seconds of wall time between calls at most.
    public let interval: Double
    /// Whether to call at the start too.
    public let atStart: Bool
    private let body: (RunEvent, () -> Checkpoint) throws -> Void
    private var last = ContinuousClock.now

    /// Calls `body` once `interval` seconds have passed since its last call, and at the end.
    public init(_ interval: Double, atStart: Bool = true, body: @escaping (RunEvent, () -> Checkpoint) throws -> Void) {
        self.interval = interval
        self.atStart = atStart
        self.body = body
    }

    /// Whether `event` is on the schedule (then the interval restarts from now).
    public func isDue(_ event: RunEvent) -> Bool {
        let now = ContinuousClock.now
        switch event.kind {
        case .start: if !atStart && !event.isLast { return false }
        case .step: if !event.isLast && seconds(now - last) < interval { return false }
        }
        last = now
        return true
    }

    public func observe(_ event: RunEvent, checkpoint: () -> Checkpoint) throws {
        guard isDue(event) else { return }
        try withoutActuallyEscaping(checkpoint) { try body(event, $0) }
    }
}
