namespace FunctionsChat.Domain;

/// <summary>Stable codes a failed turn carries; clients may branch on them.</summary>
public static class ErrorCodes
{
    public const string QueueFull = "session.queue_full";
    public const string TurnExpired = "turn.expired";
    public const string ActivityFailed = "turn.activity_failed";
}
