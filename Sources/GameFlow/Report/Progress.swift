import Foundation

/// The text of a long run's progress line: steps done, the rate and the time left.
///
/// The rate reads "N steps/s" when at least one step a second completes and "N s/step"
/// otherwise (an implicit Euler step on an MLP GAN takes minutes). Before the first step has
/// completed there is no rate to extrapolate from, so the line gives the elapsed time instead
/// of an estimate. `startStep`: the step a resumed run started from (the rate counts the steps
/// taken since).
package func progressText(step: Int, total: Int, startStep: Int = 0, elapsedSeconds: Double) -> String {
    let pct = total > 0 ? 100 * Double(step) / Double(total) : 100
    let head = String(format: "step %d/%d (%.0f%%)", step, total, pct)
    guard step > startStep, elapsedSeconds > 0 else { return head + ", " + durationText(elapsedSeconds) + " elapsed" }
    let rate = Double(step - startStep) / elapsedSeconds
    let speed: String
    if rate >= 10 { speed = String(format: "%.0f steps/s", rate) }
    else if rate >= 1 { speed = String(format: "%.1f steps/s", rate) }
    else { speed = String(format: "%.1f s/step", 1 / rate) }
    return head + ", " + speed + ", eta " + durationText(Double(max(total - step, 0)) / rate)
}

/// Seconds as "42s", "3m05s" or "2h07m" (rounded to the unit shown last).
package func durationText(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s)s" }
    if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
    let m = Int((seconds / 60).rounded())
    return String(format: "%dh%02dm", m / 60, m % 60)
}
