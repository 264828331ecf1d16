/// The field a GAN training run integrates, composed in one order wherever it is built
/// (`gameflow train`, `spectrum --run`, `field`-style analyses of a run, the bench):
///
/// 1. the Nagarajan–Kolter penalty on the utilities (nonlinear in v, so it is applied to each
///    minibatch part's field, before anything averages parts);
/// 2. time scales, when they scale the field (without an optimizer; under RMSProp/Adam they
///    multiply the optimizer's update instead and are not part of the field);
/// 3. the minibatch split into independent parts (debiased consensus, `SubBatchedGame`).
///
/// Analyses of a trained run see this field at the run's evaluation batch
/// (`FixedBatchGame(…, step: NetworkGAN.evaluationStep)`), so they analyse the field that was
/// trained, not another (the NK penalty of an average is not the average of NK penalties).
public struct TrainingFieldStack: Sendable, Equatable {
    /// The Nagarajan–Kolter penalty η (nil or 0: none).
    public var nkPenalty: Double?
    /// Time scales put into the field (nil: none, or they belong to the optimizer).
    public var fieldScale: StepScale?
    /// Independent parts per minibatch (nil: the whole batch).
    public var parts: Int?

    /// A stack of these modifiers.
    public init(nkPenalty: Double? = nil, fieldScale: StepScale? = nil, parts: Int? = nil) {
        self.nkPenalty = nkPenalty
        self.fieldScale = fieldScale
        self.parts = parts
    }

    /// `game` with the modifiers, in the order above.
    public func apply<G: Game>(to game: G) throws -> any Game {
        let penalized: any Game = try game.nkPenalized(nkPenalty)
        let scaled = try penalized.timeScaled(fieldScale)
        guard let p = parts else { return scaled }
        return try scaled.subBatched(parts: p)
    }

    /// The same field at one fixed minibatch (a trained run's evaluation batch).
    public func apply<G: Game>(to game: G, fixedAt step: Int) throws -> any Game {
        try apply(to: game).fixedBatch(step: step)
    }
}

extension Game {
    /// `SubBatchedGame(self, parts:)` for a game chosen at run time.
    public func subBatched(parts: Int) throws -> any Game { try SubBatchedGame(self, parts: parts) }

    /// `FixedBatchGame(self, step:)` for a game chosen at run time.
    public func fixedBatch(step: Int) -> any Game { FixedBatchGame(self, step: step) }
}
