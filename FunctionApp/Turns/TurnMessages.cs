using System.Text.Json.Serialization;
using FunctionsChat.Domain;

namespace FunctionsChat.Turns;

/// <summary>The turn orchestration's input: the turn, the conversation as it stood when the turn started, and its retry schedule.</summary>
public sealed record ChatTurnInput(
    [property: JsonPropertyName("sessionKey")] string SessionKey,
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("history")] IReadOnlyList<ConversationMessage> History,
    [property: JsonPropertyName("retry")] RetrySchedule Retry)
{
    [JsonPropertyName("startedAt")]
    public DateTimeOffset StartedAt { get; init; }

    [JsonPropertyName("traceParent")]
    public string? TraceParent { get; init; }

    /// <summary>This incarnation of the turn; its report names it, so a late report of an older one is stale.</summary>
    [JsonPropertyName("run")]
    public string? Run { get; init; }

    /// <summary>The highest sequence the archive held for the session when the turn started: older turns are read from there.</summary>
    [JsonPropertyName("archivedThrough")]
    public long ArchivedThrough { get; init; }

    /// <summary>
    /// The last turn the session's summary covered when the turn started. Absent from the input of a turn started by
    /// a version without summaries: such a turn, replayed, takes no summary step, as it did not before.
    /// </summary>
    [JsonPropertyName("summaryThrough")]
    public long? SummaryThrough { get; init; }

    /// <summary>The session's life the turn belongs to.</summary>
    [JsonPropertyName("generation")]
    public long Generation { get; init; }
}

/// <summary>The model activity's input.</summary>
public sealed record ReplyRequest(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("history")] IReadOnlyList<ConversationMessage> History,
    [property: JsonPropertyName("message")] string Message)
{
    [JsonPropertyName("traceParent")]
    public string? TraceParent { get; init; }

    /// <summary>The session's entity key, where its archive is kept; with <see cref="ArchivedThrough"/>, older turns are read from it.</summary>
    [JsonPropertyName("sessionKey")]
    public string? SessionKey { get; init; }

    [JsonPropertyName("archivedThrough")]
    public long ArchivedThrough { get; init; }

    /// <summary>The last turn the session's summary covered when the turn started (0: none, as far as the session knew).</summary>
    [JsonPropertyName("summaryThrough")]
    public long SummaryThrough { get; init; }

    /// <summary>The session's life the turn belongs to: only a summary written in this life is used.</summary>
    [JsonPropertyName("generation")]
    public long Generation { get; init; }
}

/// <summary>The model activity's output.</summary>
public sealed record ModelReply(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] TokenUsage Usage,
    [property: JsonPropertyName("finishReason")] string? FinishReason)
{
    /// <summary>The finish reason of an answer cut at the output limit.</summary>
    public const string CutShort = "length";
}

/// <summary>The turn orchestration's output: the session's verdict on the turn (null status: the session no longer has it).</summary>
public sealed record TurnResult(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("status")] TurnStatus? Status,
    [property: JsonPropertyName("errorCode")] string? ErrorCode = null);
