import Testing
@testable import GameFlow

/// The progress line's rate and time left, from the step count and elapsed time.
@Suite struct ProgressTests {
    @Test func fastRunsShowStepsPerSecondAndTheTimeLeft() {
        // 30 of 100 steps in 15 s: 2 steps/s, 70 steps left = 35 s.
        #expect(progressText(step: 30, total: 100, elapsedSeconds: 15) == "step 30/100 (30%), 2.0 steps/s, eta 35s")
        // 5,000 of 30,000 in 2 s: 2,500 steps/s, 25,000 left = 10 s.
        #expect(progressText(step: 5000, total: 30000, elapsedSeconds: 2) == "step 5000/30000 (17%), 2500 steps/s, eta 10s")
    }

    @Test func resumedRunsCountTheirOwnSteps() {
        // Resumed at 10,000 of 30,000; 2,000 steps in 4 s: 500 steps/s, 18,000 left = 36 s.
        #expect(progressText(step: 12000, total: 30000, startStep: 10000, elapsedSeconds: 4)
                == "step 12000/30000 (40%), 500 steps/s, eta 36s")
        #expect(progressText(step: 10000, total: 30000, startStep: 10000, elapsedSeconds: 2) == "step 10000/30000 (33%), 2s elapsed")
    }

    @Test func slowRunsShowSecondsPerStep() {
        // One step in 170 s (implicit Euler on the paper's GAN): two left = 340 s.
        #expect(progressText(step: 1, total: 3, elapsedSeconds: 170) == "step 1/3 (33%), 170.0 s/step, eta 5m40s")
    }

    @Test func noEstimateBeforeTheFirstStep() {
        let text = progressText(step: 0, total: 3, elapsedSeconds: 12.4)
        #expect(text == "step 0/3 (0%), 12s elapsed")
        #expect(!text.contains("eta"))
    }

    @Test func durations() {
        #expect(durationText(0) == "0s")
        #expect(durationText(59.4) == "59s")
        #expect(durationText(59.6) == "1m00s")
        #expect(durationText(3599) == "59m59s")
        #expect(durationText(3725) == "1h02m")   // 62.08 min
        #expect(durationText(.infinity) == "?")
        #expect(durationText(-1) == "?")
    }
}
