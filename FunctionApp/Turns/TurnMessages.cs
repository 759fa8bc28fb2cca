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
    /// <summary>The input of the orchestration a session starts for a turn.</summary>
    public static ChatTurnInput For(string sessionKey, TurnStart start, RetrySchedule retry) =>
        new(sessionKey, start.SessionId, start.TurnId, start.Message, start.History, retry)
        {
            MessageRef = start.MessageRef,
            AcceptedAt = start.AcceptedAt,
            MessageHash = start.MessageHash,
            StartedAt = start.StartedAt,
            TraceParent = start.TraceParent,
            Run = start.Run,
            ArchivedThrough = start.ArchivedThrough,
            ArchivedFrom = start.ArchivedFrom,
            SummaryThrough = start.SummaryThrough,
            SummaryInModelCall = true,
            Generation = start.Generation,
        };

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
    /// The newest archived turn of the line the turn follows: older turns are read from there, each turn's parent
    /// after it. Absent from the input of a turn started before sessions could branch: its line is every archived turn.
    /// </summary>
    [JsonPropertyName("archivedFrom")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ArchivedFrom { get; init; }

    /// <summary>
    /// The last turn the session's summary covered when the turn started. Absent from the input of a turn started by
    /// a version without summaries: such a turn, replayed, takes no summary step, as it did not before.
    /// </summary>
    [JsonPropertyName("summaryThrough")]
    public long? SummaryThrough { get; init; }

    /// <summary>
    /// The summary step runs inside the model activity, before its answer, rather than as an activity of its own (one
    /// queue round trip and one replay fewer a turn). Absent from the input of a turn started before: such a turn,
    /// replayed, schedules its summary activity as it did.
    /// </summary>
    [JsonPropertyName("summaryInModelCall")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool SummaryInModelCall { get; init; }

    /// <summary>The session's life the turn belongs to.</summary>
    [JsonPropertyName("generation")]
    public long Generation { get; init; }

    /// <summary>Where the message is stored whole; <see cref="Message"/> is empty when it was too long to carry.</summary>
    [JsonPropertyName("messageRef")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageRef { get; init; }

    /// <summary>When the API accepted the turn: the answer is stored under a key of the same moment.</summary>
    [JsonPropertyName("acceptedAt")]
    public DateTimeOffset AcceptedAt { get; init; }

    /// <summary>The fingerprint of the turn's message, which its report names; none in an input written before it was kept.</summary>
    [JsonPropertyName("messageHash")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageHash { get; init; }
}

/// <summary>The model activity's input.</summary>
public sealed record ReplyRequest(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("history")] IReadOnlyList<ConversationMessage> History,
    [property: JsonPropertyName("message")] string Message)
{
    /// <summary>The model activities' input for a turn's orchestration input.</summary>
    public static ReplyRequest For(ChatTurnInput turn) => new(turn.SessionId, turn.TurnId, turn.History, turn.Message)
    {
        TraceParent = turn.TraceParent,
        SessionKey = turn.SessionKey,
        ArchivedThrough = turn.ArchivedThrough,
        ArchivedFrom = turn.ArchivedFrom ?? turn.ArchivedThrough,
        SummaryThrough = turn.SummaryThrough ?? 0,
        Generation = turn.Generation,
        MessageRef = turn.MessageRef,
        AcceptedAt = turn.AcceptedAt,
        Run = turn.Run,
        MessageHash = turn.MessageHash,
        SummarizeFirst = turn.SummaryInModelCall && turn.SummaryThrough is not null && turn.ArchivedThrough > 0,
    };

    [JsonPropertyName("traceParent")]
    public string? TraceParent { get; init; }

    /// <summary>
    /// The execution of the turn's orchestration that asks: when it began, then a replay-safe random tail, so a later
    /// execution (one that replaced this instance) sorts after it and its model call wins the turn's claim.
    /// </summary>
    [JsonPropertyName("execution")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Execution { get; init; }

    /// <summary>The session's entity key, where its archive is kept; with <see cref="ArchivedThrough"/>, older turns are read from it.</summary>
    [JsonPropertyName("sessionKey")]
    public string? SessionKey { get; init; }

    [JsonPropertyName("archivedThrough")]
    public long ArchivedThrough { get; init; }

    /// <summary>
    /// The newest archived turn of the line the turn follows: the archive is read from there, each turn's parent after
    /// it. Null in a request written before sessions could branch: the line is then every archived turn.
    /// </summary>
    [JsonPropertyName("archivedFrom")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? ArchivedFrom { get; init; }

    /// <summary>Where the turn's line goes on in the archive (0: nowhere).</summary>
    [JsonIgnore]
    public long ArchivedLineFrom => ArchivedFrom ?? ArchivedThrough;

    /// <summary>The last turn the session's summary covered when the turn started (0: none, as far as the session knew).</summary>
    [JsonPropertyName("summaryThrough")]
    public long SummaryThrough { get; init; }

    /// <summary>The session's life the turn belongs to: only a summary written in this life is used.</summary>
    [JsonPropertyName("generation")]
    public long Generation { get; init; }

    /// <summary>Where the message is stored whole; <see cref="Message"/> is empty when it was too long to carry.</summary>
    [JsonPropertyName("messageRef")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageRef { get; init; }

    /// <summary>When the API accepted the turn: the answer is stored under a key of the same moment.</summary>
    [JsonPropertyName("acceptedAt")]
    public DateTimeOffset AcceptedAt { get; init; }

    /// <summary>The turn incarnation asking: the model call goes on only while the session runs this one.</summary>
    [JsonPropertyName("run")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Run { get; init; }

    /// <summary>The fingerprint of the turn's message, which the activity's own report names.</summary>
    [JsonPropertyName("messageHash")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageHash { get; init; }

    /// <summary>Bring the session's summary up to date before the answer, in the same activity.</summary>
    [JsonPropertyName("summarizeFirst")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool SummarizeFirst { get; init; }
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

    /// <summary>The attempt whose stream holds this answer (<see cref="FunctionsChat.Domain.StreamKeys"/>).</summary>
    [JsonPropertyName("attempt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Attempt { get; init; }

    /// <summary>Where the answer is stored whole; <see cref="Text"/> is empty when it is too long to carry.</summary>
    [JsonPropertyName("textRef")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? TextRef { get; init; }

    /// <summary>
    /// What the caller's token budget was charged before the model was called (the tokenizer's count of the prompt),
    /// to be corrected to the reported usage; never stored.
    /// </summary>
    [JsonIgnore]
    public TokenCharge? Estimate { get; init; }

    /// <summary>With <see cref="ReplyRequest.SummarizeFirst"/>: the tokens the summary step's model call reported; never stored.</summary>
    [JsonIgnore]
    public long SummaryTokens { get; init; }

    /// <summary>The session stopped the turn: <see cref="Text"/> is what the model had said by then.</summary>
    [JsonPropertyName("stopped")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Stopped { get; init; }

    /// <summary>With <see cref="ReplyRequest.SummarizeFirst"/>: the last turn the summary covers now.</summary>
    [JsonPropertyName("summaryThrough")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? SummaryThrough { get; init; }

    /// <summary>With <see cref="ReplyRequest.SummarizeFirst"/>: why the summary could not be brought up to date.</summary>
    [JsonPropertyName("warning")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Warning { get; init; }
}

/// <summary>The turn orchestration's output: the session's verdict on the turn (null status: the session no longer has it).</summary>
public sealed record TurnResult(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("status")] TurnStatus? Status,
    [property: JsonPropertyName("errorCode")] string? ErrorCode = null);
