using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

[JsonConverter(typeof(JsonStringEnumConverter<TurnStatus>))]
public enum TurnStatus
{
    [JsonStringEnumMemberName("queued")] Queued,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,

    /// <summary>Stopped by a message sent with the <c>interrupt</c> strategy: its partial answer stays in the conversation.</summary>
    [JsonStringEnumMemberName("interrupted")] Interrupted,

    /// <summary>Stopped by a message sent with the <c>rollback</c> strategy: kept in the history, left out of the conversation.</summary>
    [JsonStringEnumMemberName("rolledBack")] RolledBack,
}

public sealed record TokenUsage(
    [property: JsonPropertyName("inputTokens")] long InputTokens,
    [property: JsonPropertyName("outputTokens")] long OutputTokens)
{
    [JsonPropertyName("totalTokens")]
    public long TotalTokens => InputTokens + OutputTokens;
}

/// <summary>A turn the API accepted: made before signalling, so a redelivered signal is recognised by its id.</summary>
public sealed record TurnRequest(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("acceptedAt")] DateTimeOffset AcceptedAt)
{
    [JsonPropertyName("messageHash")]
    public string MessageHash { get; init; } = Fingerprint.Of(Message);

    /// <summary>The W3C traceparent of the request, so the turn's spans join its trace across durable boundaries.</summary>
    [JsonPropertyName("traceParent")]
    public string? TraceParent { get; init; }

    /// <summary>Where the API stored the message whole; <see cref="Message"/> is empty when it was too long to carry.</summary>
    [JsonPropertyName("messageRef")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageRef { get; init; }

    /// <summary>What the session does with the message if a turn is running or queued when it arrives.</summary>
    [JsonPropertyName("strategy")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public MultitaskStrategy Strategy { get; init; }

    /// <summary>Set for a regenerated or edited turn: the turn it is a new variant of.</summary>
    [JsonPropertyName("variantOf")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VariantRequest? VariantOf { get; init; }

    /// <summary>
    /// A request for <paramref name="text"/>, whose words the API stores under <see cref="MessageRef"/> before it
    /// signals: carried inline as well when short, by reference alone when long.
    /// </summary>
    public static TurnRequest For(string sessionId, string turnId, string text, DateTimeOffset acceptedAt)
    {
        string hash = Fingerprint.Of(text);
        return new(sessionId, turnId, StoredText.Inline(text), acceptedAt) { MessageHash = hash, MessageRef = TextKeys.Message(acceptedAt, hash) };
    }
}

public sealed record QueuedTurn(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("messageHash")] string MessageHash,
    [property: JsonPropertyName("acceptedAt")] DateTimeOffset AcceptedAt,
    [property: JsonPropertyName("queuedAt")] DateTimeOffset QueuedAt)
{
    [JsonPropertyName("traceParent")]
    public string? TraceParent { get; init; }

    /// <summary>Where the message is stored whole; <see cref="Message"/> is empty while it is left there.</summary>
    [JsonPropertyName("messageRef")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageRef { get; init; }

    /// <summary>The session's event that queued the turn (<see cref="ChatSessionState.Events"/>).</summary>
    [JsonPropertyName("queuedEvent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long QueuedEvent { get; init; }

    /// <summary>The turn this one follows in its branch (<see cref="Branches.ParentOf(long, long?)"/>).</summary>
    [JsonPropertyName("parent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Parent { get; init; }

    /// <summary>The branch line the turn is on (<see cref="Branches"/>); 0 for the session's first.</summary>
    [JsonPropertyName("branch")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Branch { get; init; }
}

public sealed record ActiveTurn(
    [property: JsonPropertyName("turn")] QueuedTurn Turn,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("expiresAt")] DateTimeOffset ExpiresAt)
{
    /// <summary>The session's event that started the turn.</summary>
    [JsonPropertyName("startedEvent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long StartedEvent { get; init; }

    /// <summary>
    /// Set once the session has asked the turn to stop: the status it finishes with when its model call has stopped
    /// and reported (or when the stop grace, <see cref="StopBy"/>, passes first).
    /// </summary>
    [JsonPropertyName("stop")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TurnStatus? Stop { get; init; }

    /// <summary>With <see cref="Stop"/>: when the stop grace ends.</summary>
    [JsonPropertyName("stopBy")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? StopBy { get; init; }
}

/// <summary>A finished turn: the user's message and, when it completed, the reply.</summary>
public sealed record TranscriptTurn(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("status")] TurnStatus Status,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("messageHash")] string MessageHash,
    [property: JsonPropertyName("acceptedAt")] DateTimeOffset AcceptedAt,
    [property: JsonPropertyName("finishedAt")] DateTimeOffset FinishedAt)
{
    [JsonPropertyName("answer")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Answer { get; init; }

    [JsonPropertyName("model")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Model { get; init; }

    [JsonPropertyName("usage")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TokenUsage? Usage { get; init; }

    [JsonPropertyName("errorCode")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ErrorCode { get; init; }

    [JsonPropertyName("errorMessage")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ErrorMessage { get; init; }

    /// <summary>Where the message is stored whole; <see cref="Message"/> is empty while it is left there.</summary>
    [JsonPropertyName("messageRef")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageRef { get; init; }

    /// <summary>Where the answer is stored whole; <see cref="Answer"/> is empty while it is left there.</summary>
    [JsonPropertyName("answerRef")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AnswerRef { get; init; }

    /// <summary>The attempt whose stream is the answer (<see cref="StreamKeys"/>).</summary>
    [JsonPropertyName("attempt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Attempt { get; init; }

    /// <summary>The model stopped at its output limit (finish reason <c>length</c>): the answer is cut short.</summary>
    [JsonPropertyName("truncated")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Truncated { get; init; }

    /// <summary>Something went wrong beside the answer (the summary could not be brought up to date), as a stable code.</summary>
    [JsonPropertyName("warning")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Warning { get; init; }

    /// <summary>The session's event that queued the turn (<see cref="ChatSessionState.Events"/>).</summary>
    [JsonPropertyName("queuedEvent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long QueuedEvent { get; init; }

    /// <summary>The turn this one follows in its branch (<see cref="Branches.ParentOf(long, long?)"/>).</summary>
    [JsonPropertyName("parent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Parent { get; init; }

    /// <summary>The branch line the turn is on (<see cref="Branches"/>); 0 for the session's first.</summary>
    [JsonPropertyName("branch")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Branch { get; init; }

    /// <summary>The session's event that started the turn; 0 when it never ran.</summary>
    [JsonPropertyName("startedEvent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long StartedEvent { get; init; }

    /// <summary>The session's event that finished the turn.</summary>
    [JsonPropertyName("finishedEvent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long FinishedEvent { get; init; }
}

/// <summary>What the turn orchestration reports back when the model answered.</summary>
public sealed record TurnCompletion(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("answer")] string Answer,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("usage")] TokenUsage Usage,
    [property: JsonPropertyName("completedAt")] DateTimeOffset CompletedAt)
{
    /// <summary>The turn incarnation that answered (<see cref="TurnStart.Run"/>); a result of another one is stale.</summary>
    [JsonPropertyName("run")]
    public string? Run { get; init; }

    /// <summary>
    /// The fingerprint of the message the reporting execution was started for: a report of an execution started for
    /// another message under the same key (its start went out, its operation was then not saved) is stale.
    /// </summary>
    [JsonPropertyName("messageHash")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageHash { get; init; }

    /// <summary>The model stopped at its output limit: the answer is cut short.</summary>
    [JsonPropertyName("truncated")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Truncated { get; init; }

    /// <summary>The model call was stopped because the session asked the turn to stop: the answer is what came before.</summary>
    [JsonPropertyName("stopped")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Stopped { get; init; }

    /// <summary>Where the model activity stored the answer whole; <see cref="Answer"/> is empty when it was too long to carry.</summary>
    [JsonPropertyName("answerRef")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AnswerRef { get; init; }

    /// <summary>The attempt whose stream the answer is (<see cref="StreamKeys"/>); other attempts' streams were abandoned.</summary>
    [JsonPropertyName("attempt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Attempt { get; init; }

    /// <summary>The last turn the session's summary covers after this turn's summary step.</summary>
    [JsonPropertyName("summaryThrough")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long SummaryThrough { get; init; }

    /// <summary>The summary step's failure, when it failed for good: the turn was answered without an up-to-date summary.</summary>
    [JsonPropertyName("warning")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Warning { get; init; }
}

/// <summary>What the turn orchestration reports back when the turn could not be answered.</summary>
public sealed record TurnFailure(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("failedAt")] DateTimeOffset FailedAt)
{
    /// <summary>The turn incarnation that failed (<see cref="TurnStart.Run"/>); a result of another one is stale.</summary>
    [JsonPropertyName("run")]
    public string? Run { get; init; }

    /// <summary>
    /// The fingerprint of the message the reporting execution was started for: a report of an execution started for
    /// another message under the same key (its start went out, its operation was then not saved) is stale.
    /// </summary>
    [JsonPropertyName("messageHash")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageHash { get; init; }

    /// <summary>The last turn the session's summary covers after this turn's summary step.</summary>
    [JsonPropertyName("summaryThrough")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long SummaryThrough { get; init; }
}

/// <summary>The session's one expiry signal: due at <see cref="At"/>, for whichever turn is running then.</summary>
public sealed record TurnExpiry([property: JsonPropertyName("turnId")] string TurnId)
{
    [JsonPropertyName("at")]
    public DateTimeOffset? At { get; init; }
}

/// <summary>The session's one retention signal, due at <see cref="At"/>.</summary>
public sealed record RetentionDue([property: JsonPropertyName("at")] DateTimeOffset At);

/// <summary>A request to delete the session, stamped when the API received it.</summary>
public sealed record SessionDeletion([property: JsonPropertyName("requestedAt")] DateTimeOffset RequestedAt);

/// <summary>What the session recorded for a turn when its orchestration reported: the verdict the orchestration reports on.</summary>
public sealed record TurnVerdict(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("status")] TurnStatus? Status,
    [property: JsonPropertyName("errorCode")] string? ErrorCode = null);

public sealed record TurnCancellation([property: JsonPropertyName("turnId")] string TurnId);

/// <summary>An archive write: the turns up to <see cref="ThroughSequence"/>, under the attempt's own id.</summary>
public sealed record ArchiveBatch(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("throughSequence")] long ThroughSequence,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt);

/// <summary>The archive orchestration's report: the batch is written (or could not be).</summary>
public sealed record ArchiveReport(
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("throughSequence")] long ThroughSequence);

/// <summary>
/// A model-written summary of a session's turns 1..<see cref="Through"/>: what the model is shown of the turns that no
/// longer fit its context. The transcript itself keeps every word.
/// </summary>
public sealed record ConversationSummary(
    [property: JsonPropertyName("through")] long Through,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("writtenAt")] DateTimeOffset WrittenAt)
{
    /// <summary>The session's life it was written in: a late write of a deleted life is never taken for the next's.</summary>
    [JsonPropertyName("generation")]
    public long Generation { get; init; }

    /// <summary>Whether it summarises this life of the session: written in it, and of turns its archive holds.</summary>
    public bool Belongs(long generation, long archivedThrough) => Generation == generation && Through <= archivedThrough;
}

/// <summary>What idempotency needs of an archived (or refused) turn: its id and its message's fingerprint.</summary>
public sealed record ArchivedTurnKey(
    [property: JsonPropertyName("t")] string TurnId,
    [property: JsonPropertyName("h")] string MessageHash)
{
    /// <summary>For an archived turn: its sequence, where the archive keeps it.</summary>
    [JsonPropertyName("s")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Sequence { get; init; }

    /// <summary>For a refusal: when the refused request was accepted, so a later retry is not mistaken for it.</summary>
    [JsonPropertyName("a")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? AcceptedAt { get; init; }

    /// <summary>For a refusal: it was refused because a turn was in progress (the <c>reject</c> strategy), not for a full queue.</summary>
    [JsonPropertyName("b")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Busy { get; init; }
}
