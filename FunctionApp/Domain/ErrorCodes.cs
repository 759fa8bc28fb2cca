namespace FunctionsChat.Domain;

/// <summary>Stable codes a failed turn carries; clients may branch on them.</summary>
public static class ErrorCodes
{
    public const string QueueFull = "session.queue_full";
    public const string TurnExpired = "turn.expired";
    public const string ActivityFailed = "turn.activity_failed";

    /// <summary>A warning on an answered turn: its summary step failed for good, so the summary was not brought up to date.</summary>
    public const string SummaryFailed = "summary.failed";
}
