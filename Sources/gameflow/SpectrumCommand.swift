import ArgumentParser
import Foundation
import GameFlow
import Numerics

struct SpectrumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrum",
        abstract: "Eigenvalues of v′ at a state, the paper's q, and each scheme's largest stable step.",
        discussion: """
            Stable steps are those of the linearisation at the state: they decide
            local convergence when the state is an equilibrium (check that
            vector_field_norm ≈ 0).
            Examples:
              gameflow spectrum --game dirac --r1 0.3 --x0 0,0
              gameflow spectrum --game-file game.json --gamma 1 --step 0.1 \\
                --figure spectrum.svg --json
            """)

    @OptionGroup var gameOptions: GameOptions

    @Option(help: "JSON file holding the state (an array of numbers) to analyse instead of x0.")
    var state: String?

    @Option(parsing: .unconditional, help: "Also analyse consensus optimisation's Jacobian v′ − γ·v′ᵀv′ for this γ ≥ 0.")
    var gamma: Double?

    @Option(parsing: .unconditional, help: "Also find SGA's largest stable step for this λ ≥ 0.")
    var lambda: Double?

    @Option(parsing: .unconditional, help: "Also find LA's (and, on games with utility gradients, LOLA's) largest stable step for this look-ahead α ≥ 0.")
    var alpha: Double?

    @Option(name: .customLong("extrapolation-step"), parsing: .unconditional, help: "Extragradient's look-ahead step η for its stable step (default: η = h).")
    var extrapolationStep: Double?

    @Option(name: .customLong("past-weight"), parsing: .unconditional, help: "Optimistic's past weight b for its stable step (default 1).")
    var pastWeight: Double?

    @Option(parsing: .unconditional, help: "Step size h for the figure (it shows h·λ); required with --figure.")
    var step: Double?

    @Option(help: "Write the eigenvalues of h·v′ (and of h·(v′ − γv′ᵀv′) with --gamma) with the schemes' stability regions to this SVG file.")
    var figure: String?

    @OptionGroup var optimizerOptions: OptimizerOptions

    @Option(parsing: .unconditional, help: "Matrix-free: only the K eigenvalues at one end (--which), by ARPACK's Arnoldi method on exact JVPs (any n; no stable steps).")
    var top: Int?

    @Option(help: "With --top: LM (largest magnitude, default), LR (rightmost), LI (largest |imaginary|) or SR (leftmost).")
    var which: EigenvalueTarget = .largestMagnitude

    @Option(parsing: .unconditional, help: "With --top: ARPACK's relative accuracy of the eigenvalues (default 0: machine precision).")
    var tolerance: Double = 0

    @Option(name: .customLong("max-iterations"), parsing: .unconditional, help: "With --top: ARPACK's restart limit.")
    var maxIterations: Int = 1000

    @Flag(help: "Print one JSON object on stdout.")
    var json = false

    @Flag(help: "No progress or notes on stderr (spectrum prints none; accepted as every command does).")
    var quiet = false

    /// The largest n of the dense spectrum; above it, ARPACK's `automaticTop` eigenvalues.
    static let denseLimit = 4000
    static let automaticTop = 20

    /// The largest n at which schemes without a stability function are scanned on their step matrix.
    static let stepMatrixLimit = 300

    func run() throws {
        var (game, x) = try gameOptions.makeGame()
        if let k = top { return try runTop(game, x, count: k) }
        // A dense eigen-decomposition costs O(n³): `spectrum --game bilinear --dim 1000` (n = 2,000)
        // took 4.4 s here on 2026-12-01 and n = 4,000 22 s, so above 4,000 the spectrum is ARPACK's
        // 20 at the --which end (matrix-free) unless --top says how many.
        if game.dimension > Self.denseLimit {
            if !quiet { writeStandardError("gameflow: note: n = \(game.dimension) > \(Self.denseLimit): ARPACK's \(Self.automaticTop) eigenvalues at the \(which.rawValue) end (--top K for another count)\n") }
            return try runTop(game, x, count: Self.automaticTop)
        }
        if let path = state { x = try readStateFile(path, dimension: game.dimension) }
        if let g = gamma, !(g.isFinite && g >= 0) { throw GameFlowError.invalidInput("--gamma must be a finite number ≥ 0 (got \(g))") }
        if let path = figure {
            guard let h = step else { throw GameFlowError.invalidInput("--figure needs --step H (the figure shows h·λ)") }
            guard h.isFinite, h > 0 else { throw GameFlowError.invalidInput("step size must be a finite number > 0 (got \(h))") }
            try validateOutputFile(path)
        } else if let h = step, !(h.isFinite && h > 0) {
            throw GameFlowError.invalidInput("step size must be a finite number > 0 (got \(h))")
        }

        if optimizerOptions.average != nil {
            throw GameFlowError.invalidInput("spectrum analyses step maps: --average does not change them (it reports the averaged iterate of a run)")
        }
        if optimizerOptions.lookahead != nil {
            throw GameFlowError.invalidInput("spectrum analyses one-step maps: --lookahead moves the slow weights every k steps; analyse the base scheme")
        }
        if try optimizerOptions.preconditioner() != nil {
            throw GameFlowError.invalidInput("spectrum analyses linear step maps: --optimizer \(optimizerOptions.optimizer.rawValue) has none (its metric changes with the state); use --optimizer none or momentum")
        }
        let momentum = try optimizerOptions.momentumSettings()
        let jacobian = game.jacobianMatrix(at: x)
        let spectrum = try Spectrum(matrix: jacobian)
        let vNorm = norm2(game.vectorField(at: x))
        var stable: [(String, StableStepBound)] = []
        var sets: [(String, StableSet)] = []
        var skipped: [(name: String, why: String)] = []
        for name in SchemeName.fixedStep {
            if name == .consensus && gamma == nil || name == .sga && lambda == nil || name.usesLookAhead && alpha == nil { continue }
            var knobs = SchemeName.Knobs(gamma: gamma)
            knobs.lambda = lambda
            knobs.alpha = alpha
            knobs.extrapolationStep = extrapolationStep
            knobs.pastWeight = pastWeight
            // With --optimizer momentum each scheme's 2n × 2n map (AltGA: Gidel et al.'s).
            if !name.hasLinearizedStepMap {
                skipped.append((name.rawValue, name.needsUtilityGradients ? "not computed: its linearised step map needs third derivatives of the utilities"
                                                             : "not computed: its step depends on its history"))
                continue
            }
            let plain = try name.make(knobs)
            let scheme = try momentum.map { try withMomentum(plain, form: $0.form, weight: $0.weight) } ?? plain
            // Schemes without a stability function (AltGA, optimistic, consensus) are scanned on
            // their step matrix: some sixty dense eigen-decompositions of an n×n (2n×2n) matrix,
            // minutes at n = 1000 here, so they are skipped above `stepMatrixLimit`.
            if scheme.stabilityFunction(Complex(0)) == nil && game.dimension > Self.stepMatrixLimit {
                skipped.append((name.rawValue, "not computed above n = \(Self.stepMatrixLimit) (a step-matrix scan)"))
                continue
            }
            if momentum != nil && name == .optimistic {
                skipped.append((name.rawValue, "not computed: momentum around a multistep scheme has no step matrix here"))
                continue
            }
            let set = try Stability.stableSteps(scheme, jacobian: jacobian, players: game.players, spectrum: spectrum)
            // SimGA's first interval is Lemma 4's closed form where it applies.
            let bound = name == .simga && set.zeroEigenvalues == 0 && momentum == nil
                ? (spectrum.maxStableEulerStep.map { StableStepBound.upTo($0) } ?? set.maxStableStep)
                : set.maxStableStep
            stable.append((name.rawValue, bound))
            sets.append((name.rawValue, set))
        }
        var consensusSpectrum: Spectrum?
        var lemma9: Lemma9?
        if let g = gamma {
            consensusSpectrum = try Spectrum(matrix: consensusJacobian(jacobian, gamma: g))
            // Lemma 9 applies when v′ is negative semi-definite and invertible.
            if let l = try? Lemma9(A: jacobian, gamma: g), l.rho > 0 { lemma9 = l }
        }

        if let path = figure, let h = step {
            var sets = [(label: "v′", eigenvalues: spectrum.eigenvalues)]
            if let c = consensusSpectrum { sets.append((label: "v′ − γv′ᵀv′ (γ = \(gamma!))", eigenvalues: c.eigenvalues)) }
            let schemes: [any Scheme] = [SimGA(), Heun(), RK4(), Extragradient(), try ImplicitEuler(tolerance: 1e-10, maxIterations: 1)]
            let plot = Figures.spectrum(sets, h: h, schemes: schemes, title: "\(game.name): eigenvalues of h·v′ and stability regions")
            try writeAtomically(plot.svg(), to: path)
        }

        if json {
            var obj: [(String, JSON)] = [
                ("game", .string(game.name)),
                ("dimension", .int(game.dimension)),
                ("vector_field_norm", .number(vNorm)),
            ]
            obj += spectrumFields(spectrum)
            obj.append(("max_stable_step", .object(stable.compactMap { name, b in
                b == .unbounded ? nil : (name, b.value.map { .number($0) } ?? .null)
            })))
            obj.append(("unconditionally_stable", .array(stable.filter { $0.1 == .unbounded }.map { .string($0.0) })))
            obj += optimizerOptions.summaryFields
            obj.append(("stable_steps", .object(sets.map { ($0.0, StableSet.json($0.1.stable)) })))
            obj.append(("neutral_steps", .object(sets.map { ($0.0, StableSet.json($0.1.neutral)) })))
            obj.append(("zero_eigenvalues", .int(sets.first?.1.zeroEigenvalues ?? 0)))
            obj.append(("stability_not_computed", .array(skipped.map { .string($0.name) })))
            if let c = consensusSpectrum {
                let lemma: JSON = lemma9.map { l in
                    .object([("c", .number(l.c)), ("rho", .number(l.rho)), ("bound", .number(l.bound)),
                             ("q", l.q.map { .number($0) } ?? .null), ("holds", .bool((l.q ?? .infinity) <= l.bound * (1 + 1e-9)))])
                } ?? .null
                obj.append(("consensus", .object([("gamma", .number(gamma!))] + spectrumFields(c) + [
                    ("max_stable_step", .object([("simga", c.maxStableEulerStep.map { .number($0) } ?? .null)])),
                    ("lemma9", lemma),
                ])))
            }
            print(JSON.object(obj).serialized())
        } else {
            print("game \(game.name) (dimension \(game.dimension)), ‖v(x)‖ = \(String(format: "%.3g", vNorm))")
            print("eigenvalues of v′(x), rightmost first:")
            let rightmostFirst = spectrum.eigenvalues.sorted { ($0.real, $0.imaginary) > ($1.real, $1.imaginary) }
            for l in rightmostFirst.prefix(24) { print("  " + format(l)) }
            if spectrum.eigenvalues.count > 24 { print("  … \(spectrum.eigenvalues.count - 24) more (use --json)") }
            print("spectral abscissa max Re λ = \(String(format: "%.6g", spectrum.spectralAbscissa))")
            print("q = max |Im λ / Re λ| = " + (spectrum.maxImagRealRatio.map { String(format: "%.6g", $0) } ?? "∞"))
            print("stable steps (linearisation at this state" + (momentum.map { ", with \($0.form.rawValue) momentum \($0.weight)" } ?? "") + "):")
            if let z = sets.first?.1.zeroEigenvalues, z > 0 {
                print("  (\(z) zero eigenvalue\(z == 1 ? "" : "s") set aside: R(0) = 1 for every scheme; the sets are for the others)")
            }
            for (name, set) in sets {
                var text = set.description
                if name == SchemeName.simga.rawValue, case .upTo(let h) = stable.first(where: { $0.0 == name })?.1,
                   set.zeroEigenvalues == 0, momentum == nil {
                    text = String(format: "stable for h < %.6g", h)
                    if !set.neutral.isEmpty { text += "; neutral (radius 1) for " + set.neutral.map(\.description).joined(separator: " and ") }
                }
                print("  \(name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(text)")
            }
            for (name, why) in skipped {
                print("  \(name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(why)")
            }
            if let c = consensusSpectrum {
                print("consensus Jacobian v′ − γv′ᵀv′ (γ = \(gamma!)): max Re λ = \(String(format: "%.6g", c.spectralAbscissa)), q = "
                      + (c.maxImagRealRatio.map { String(format: "%.6g", $0) } ?? "∞"))
                if let l = lemma9 {
                    print(String(format: "Lemma 9: q(γ) ≤ 1/(c + 2ρ²γ) = %.6g with c = %.6g, ρ = %.6g", l.bound, l.c, l.rho))
                } else {
                    print("Lemma 9 does not apply here (v′ is not negative semi-definite and invertible)")
                }
            }
            if let path = figure { print("wrote \(path)") }
        }
    }

    /// `--top K`: ARPACK's K eigenvalues at one end of v′ (and of v′ − γv′ᵀv′ with --gamma).
    private func runTop(_ game: any Game, _ start: [Double], count: Int) throws {
        var x = start
        if let path = state { x = try readStateFile(path, dimension: game.dimension) }
        guard (1...(game.dimension - 2)).contains(count) else {
            throw GameFlowError.invalidInput("--top must be between 1 and n − 2 = \(game.dimension - 2) (got \(count))")
        }
        guard tolerance.isFinite, tolerance >= 0 else { throw GameFlowError.invalidInput("--tolerance must be a finite number ≥ 0 (got \(tolerance))") }
        guard maxIterations >= 1 else { throw GameFlowError.invalidInput("--max-iterations must be at least 1 (got \(maxIterations))") }
        if let g = gamma, !(g.isFinite && g >= 0) { throw GameFlowError.invalidInput("--gamma must be a finite number ≥ 0 (got \(g))") }
        if figure != nil || step != nil { throw GameFlowError.invalidInput("--figure and --step go with the dense spectrum, not --top") }
        let clock = ContinuousClock(), begin = clock.now
        let plain = try ArnoldiSpectrum.jacobian(game, at: x, step: 0, count: count, target: which, tolerance: tolerance, maxIterations: maxIterations)
        let consensus = try gamma.map {
            try ArnoldiSpectrum.jacobian(game, at: x, step: 0, count: count, target: which, consensusGamma: $0, tolerance: tolerance,
                                         maxIterations: maxIterations)
        }
        let seconds = GameFlow.seconds(clock.now - begin)
        let vNorm = norm2(game.vectorField(at: x))
        func fields(_ r: ArnoldiSpectrum) -> [(String, JSON)] {
            let sorted = zip(r.eigenvalues, r.residuals).sorted { ($0.0.real, $0.0.imaginary) > ($1.0.real, $1.0.imaginary) }
            let spectrum = Spectrum(eigenvalues: r.eigenvalues)
            return [("eigenvalues", .array(sorted.map { .array([.number($0.0.real), .number($0.0.imaginary)]) })),
                    ("residuals", .numbers(sorted.map(\.1))), ("found", .int(r.eigenvalues.count)),
                    ("status", .string(r.failure == nil ? "converged" : "failed")), ("reason", r.failure.map { .string($0) } ?? .null),
                    ("iterations", .int(r.iterations)), ("products", .int(r.products)),
                    ("spectral_abscissa_among_found", r.eigenvalues.isEmpty ? .null : .number(spectrum.spectralAbscissa)),
                    ("max_imag_real_ratio_among_found", spectrum.maxImagRealRatio.map { .number($0) } ?? .null)]
        }
        if json {
            var obj: [(String, JSON)] = [("game", .string(game.name)), ("dimension", .int(game.dimension)), ("vector_field_norm", .number(vNorm)),
                                         ("method", .string("arpack")), ("which", .string(which.rawValue)), ("top", .int(count))]
            obj += fields(plain)
            if let c = consensus { obj.append(("consensus", .object([("gamma", .number(gamma!))] + fields(c)))) }
            obj.append(("seconds", .number(seconds)))
            print(JSON.object(obj).serialized())
            return
        }
        print("game \(game.name) (dimension \(game.dimension)), ‖v(x)‖ = \(String(format: "%.3g", vNorm))")
        func show(_ r: ArnoldiSpectrum, _ what: String) {
            print("\(r.eigenvalues.count) eigenvalues of \(what) (\(which.rawValue), ARPACK: \(r.iterations) restarts, \(r.products) products), rightmost first, with residuals ‖Aq − λq‖/‖q‖:")
            for (l, res) in zip(r.eigenvalues, r.residuals).sorted(by: { ($0.0.real, $0.0.imaginary) > ($1.0.real, $1.0.imaginary) }) {
                print("  " + format(l).padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: "residual %.2e", res))
            }
            if let f = r.failure { print("  (\(f))") }
        }
        show(plain, "v′(x)")
        if let c = consensus { show(c, "v′ − γv′ᵀv′ (γ = \(gamma!))") }
        print(String(format: "%.2f s", seconds))
    }

    private func spectrumFields(_ s: Spectrum) -> [(String, JSON)] {
        [("eigenvalues", .array(s.eigenvalues.map { .array([.number($0.real), .number($0.imaginary)]) })),
         ("spectral_abscissa", .number(s.spectralAbscissa)),
         ("max_imag_real_ratio", s.maxImagRealRatio.map { .number($0) } ?? .null)]
    }

    private func format(_ l: Complex<Double>) -> String {
        let im = l.imaginary
        return String(format: "%.6g %@ %.6gi", l.real, im < 0 ? "−" : "+", abs(im))
    }
}

extension EigenvalueTarget: ExpressibleByArgument {}
