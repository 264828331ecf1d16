/// Which GameFlow produced a result: recorded in every summary.json and by `gameflow --version`.
public enum GameFlowVersion {
    /// The release version.
    public static let version = "0.9.0"
    /// The git commit built (12 hex digits, "-dirty" with uncommitted changes; "unknown" outside
    /// a git checkout), stamped at build time by the VersionStamp plugin.
    public static let commit = buildCommit
    /// "0.9.0 (commit abc123…)".
    public static var description: String { "\(version) (commit \(commit))" }
}
