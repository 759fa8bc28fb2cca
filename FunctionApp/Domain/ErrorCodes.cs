namespace FunctionsChat.Domain;

/// <summary>Stable codes a failed turn carries; clients may branch on them.</summary>
public static class ErrorCodes
{
    public const string QueueFull = "session.queue_full";

    /// <summary>Refused by the <c>reject</c> strategy: a turn was running or queued when the message arrived.</summary>
    public const string TurnInProgress = "session.turn_in_progress";
    public const string TurnExpired = "turn.expired";

    /// <summary>A regenerate or edit the session could no longer make when it arrived (the conversation moved on since the API checked it).</summary>
    public const string BranchInvalid = "session.branch_invalid";
    public const string ActivityFailed = "turn.activity_failed";

    /// <summary>The session could not take the turn's answer (its operation threw and was rolled back): the turn fails instead.</summary>
    public const string ReportRefused = "turn.report_refused";

    /// <summary>A warning on an answered turn: its summary step failed for good, so the summary was not brought up to date.</summary>
    public const string SummaryFailed = "summary.failed";
}
