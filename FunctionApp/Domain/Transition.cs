using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

/// <summary>What a transition did, for logs and for the caller that must answer a client.</summary>
public enum TransitionNote
{
    Applied,
    Duplicate,
    Conflict,
    QueueFull,
    Busy,
    Stale,
    NotFound,
    AlreadyFinished,
    Deleted,
    Kept,
    Rearmed,
}

/// <summary>A message of the conversation as the model sees it.</summary>
public sealed record ConversationMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content)
{
    /// <summary>Where the text is stored whole; <see cref="Content"/> is empty when it is left there.</summary>
    [JsonPropertyName("ref")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Ref { get; init; }

    public const string User = "user";
    public const string Assistant = "assistant";
}

/// <summary>A turn to start now: its message and the conversation exactly as it stood when it started.</summary>
public sealed record TurnStart(
    string SessionId,
    string TurnId,
    long Sequence,
    string Message,
    IReadOnlyList<ConversationMessage> History,
    DateTimeOffset ExpiresAt)
{
    public DateTimeOffset StartedAt { get; init; }

    public string? TraceParent { get; init; }

    /// <summary>Where the message is stored whole; <see cref="Message"/> is empty when it is left there.</summary>
    public string? MessageRef { get; init; }

    /// <summary>When the API accepted the turn: its answer is stored under a key of the same moment.</summary>
    public DateTimeOffset AcceptedAt { get; init; }

    /// <summary>The message's fingerprint: the turn's report names it, so a report for another message under the key is stale.</summary>
    public string? MessageHash { get; init; }

    /// <summary>This incarnation of the turn: the session's generation and the turn's sequence, unique across deletes.</summary>
    public string Run { get; init; } = "";

    /// <summary>The archive's confirmed prefix when the turn started: the turns before the working set.</summary>
    public long ArchivedThrough { get; init; }

    /// <summary>The newest archived turn of the line the turn follows (<see cref="Branches.LineFrom"/>); 0 when none is archived.</summary>
    public long ArchivedFrom { get; init; }

    /// <summary>The last turn the session's summary covered when the turn started.</summary>
    public long SummaryThrough { get; init; }

    /// <summary>The session's life the turn belongs to: a summary written for another life is not its own.</summary>
    public long Generation { get; init; }
}

/// <summary>Finished turns to write to the archive, under the batch's id.</summary>
public sealed record ArchiveStart(string BatchId, long ThroughSequence, IReadOnlyList<TranscriptTurn> Turns)
{
    /// <summary>The orchestrations to purge once the batch is written: its turns' and the previous batch's.</summary>
    public SessionPurge Purge { get; init; } = SessionPurge.None;
}

/// <summary>A turn's orchestration, by the turn and its incarnation.</summary>
public sealed record TurnRun(string TurnId, string Run);

/// <summary>
/// Finished orchestrations whose inputs and outputs hold a session's words, to be purged from the task hub: turns
/// that left the working set (or the whole session), and archive batches.
/// </summary>
public sealed record SessionPurge(IReadOnlyList<TurnRun> Turns, IReadOnlyList<string> ArchiveBatches)
{
    public static SessionPurge None { get; } = new([], []);

    /// <summary>
    /// How long to wait before purging again what was still running (a cancelled turn's orchestration finishing its
    /// model call): past the turn timeout, every turn orchestration has finished.
    /// </summary>
    public TimeSpan Linger { get; init; }

    public bool IsEmpty => Turns.Count == 0 && ArchiveBatches.Count == 0;
}

/// <summary>
/// What a deletion takes from the session's table: every row of the lives up to <see cref="Generation"/>, told apart
/// from a later life's by when their turns were accepted (up to <see cref="AcceptedThrough"/>) and, for the summary,
/// by the life it was written in. A later life's rows are never in it, so it may run again at any time.
/// </summary>
public sealed record Erasure(
    [property: JsonPropertyName("acceptedThrough")] DateTimeOffset AcceptedThrough,
    [property: JsonPropertyName("generation")] long Generation)
{
    /// <summary>What deleting now takes: the lives up to the last one deleted (the current one, if it is a tombstone).</summary>
    public static Erasure Of(ChatSessionState state) =>
        new(state.DeletedAt ?? DateTimeOffset.MinValue, state.IsTombstone || state.IsEmpty ? state.Generation : state.Generation - 1);
}

/// <summary>The new state and what must happen because of it.</summary>
public sealed record Transition(ChatSessionState State, TransitionNote Note, TurnStart? Start = null)
{
    /// <summary>Archive these turns; they leave the state only when the write is confirmed.</summary>
    public ArchiveStart? Archive { get; init; }

    /// <summary>Delete the session's archive (the session was deleted, or expired idle).</summary>
    public bool DeleteArchive { get; init; }

    /// <summary>With <see cref="DeleteArchive"/>: which lives' rows go; null: the one the state says was deleted last.</summary>
    public Erasure? Erase { get; init; }

    /// <summary>With <see cref="DeleteArchive"/>: the tombstone is forgotten, and the entity's empty row is purged after the sweep.</summary>
    public bool Forget { get; init; }

    /// <summary>With <see cref="DeleteArchive"/>: the deleted life's orchestrations to purge.</summary>
    public SessionPurge Purge { get; init; } = SessionPurge.None;

    /// <summary>Arm the session's one retention signal for then (it is not armed yet).</summary>
    public DateTimeOffset? RetentionCheckAt { get; init; }

    /// <summary>Arm the session's one expiry signal for then (it is not armed yet).</summary>
    public DateTimeOffset? ExpiryCheckAt { get; init; }

    /// <summary>Arm the session's one stop check for then (it is not armed yet).</summary>
    public DateTimeOffset? StopCheckAt { get; init; }

    /// <summary>Ask the caller's quota for a running-turn slot, under this ask (the next turn waits for it).</summary>
    public string? AskSlot { get; init; }

    /// <summary>With <see cref="AskSlot"/>: when the session checks that its ask was granted, and asks again if not.</summary>
    public DateTimeOffset? SlotCheckAt { get; init; }

    /// <summary>Let the caller's quota have this ask's slot back (the session has no turn to run, or never wanted it).</summary>
    public string? ReleaseSlot { get; init; }

    /// <summary>What the session recorded for the turn a Complete or Fail reported on.</summary>
    public TurnVerdict? Verdict { get; init; }
}
