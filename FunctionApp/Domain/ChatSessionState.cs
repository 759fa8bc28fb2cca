using System.Text.Json;
using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

/// <summary>The whole stored state of one chat session: finished turns, the queue and the running turn.</summary>
public sealed record ChatSessionState
{
    public const int CurrentSchemaVersion = 1;

    public static ChatSessionState Empty { get; } = new();

    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    [JsonPropertyName("sessionId")]
    public string SessionId { get; init; } = "";

    [JsonPropertyName("createdAt")]
    public DateTimeOffset CreatedAt { get; init; }

    [JsonPropertyName("lastActivityAt")]
    public DateTimeOffset LastActivityAt { get; init; }

    /// <summary>The sequence number the next accepted turn gets; sequences give acceptance order.</summary>
    [JsonPropertyName("nextSequence")]
    public long NextSequence { get; init; } = 1;

    /// <summary>
    /// The working set of finished turns (completed, failed, cancelled), in sequence order. Older turns are in the
    /// archive: every turn with a sequence up to <see cref="ArchivedThrough"/>.
    /// </summary>
    /// <summary>
    /// The number of the session's newest event: a turn queued, started or finished. Each turn keeps the numbers of
    /// its own events, so every window follows the session's events in one order (see <c>SessionEvents</c>).
    /// </summary>
    [JsonPropertyName("events")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Events { get; init; }

    [JsonPropertyName("turns")]
    public IReadOnlyList<TranscriptTurn> Turns { get; init; } = [];

    [JsonPropertyName("pending")]
    public IReadOnlyList<QueuedTurn> Pending { get; init; } = [];

    [JsonPropertyName("active")]
    public ActiveTurn? Active { get; init; }

    /// <summary>The highest sequence whose turn the archive has confirmed; 0 while nothing is archived.</summary>
    [JsonPropertyName("archivedThrough")]
    public long ArchivedThrough { get; init; }

    /// <summary>
    /// Ids and message fingerprints of the turns archived most recently, so a retried request is still recognised
    /// after its turn left the working set: the idempotency window is the working set plus these.
    /// </summary>
    [JsonPropertyName("archivedIds")]
    public IReadOnlyList<ArchivedTurnKey> ArchivedIds { get; init; } = [];

    /// <summary>The archive write under way, if any; its turns stay here until it is confirmed.</summary>
    [JsonPropertyName("archiving")]
    public ArchiveBatch? Archiving { get; init; }

    /// <summary>
    /// Which life of the session this is: a session deleted and used again starts a new generation, so its turns'
    /// orchestrations get instance ids of their own and a late result of the old life is never taken for the new.
    /// </summary>
    [JsonPropertyName("generation")]
    public long Generation { get; init; }

    /// <summary>
    /// When the API accepted the earliest request of this life of the session: a delete requested before it (a late
    /// or redelivered one) deletes none of its turns.
    /// </summary>
    [JsonPropertyName("bornAt")]
    public DateTimeOffset? BornAt { get; init; }

    /// <summary>The last turn the session's summary (kept with its archive) covers; 0 while there is none.</summary>
    [JsonPropertyName("summaryThrough")]
    public long SummaryThrough { get; init; }

    /// <summary>The archive batch started last: its orchestration (which holds the batch's text) is purged with the next.</summary>
    [JsonPropertyName("lastArchiveBatchId")]
    public string? LastArchiveBatchId { get; init; }

    /// <summary>When the API accepted the newest request this life of the session has seen (taken, refused or not).</summary>
    [JsonPropertyName("newestAcceptedAt")]
    public DateTimeOffset? NewestAcceptedAt { get; init; }

    /// <summary>
    /// When the session was last deleted, or, if later, when the newest request that delete erased was accepted: a
    /// request accepted up to this moment (a late or redelivered signal) is dropped rather than bringing the session
    /// back, also once a new life has begun, and its sender can tell it was deleted. Holds no words; forgotten with
    /// the tombstone after the tombstone time.
    /// </summary>
    [JsonPropertyName("deletedAt")]
    public DateTimeOffset? DeletedAt { get; init; }

    /// <summary>When the one pending expiry signal is due; null while none is pending.</summary>
    [JsonPropertyName("expiryCheckAt")]
    public DateTimeOffset? ExpiryCheckAt { get; init; }

    /// <summary>
    /// When the session's one stop check (an Expire signal of its own) is due: a turn asked to stop that has not
    /// reported by then is finished without its partial answer. Null when none is on its way.
    /// </summary>
    [JsonPropertyName("stopCheckAt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? StopCheckAt { get; init; }

    /// <summary>When the one pending retention signal is due; null while none is pending.</summary>
    [JsonPropertyName("retentionCheckAt")]
    public DateTimeOffset? RetentionCheckAt { get; init; }

    /// <summary>Requests refused because the queue was full, newest last: ids and fingerprints only, never the text.</summary>
    [JsonPropertyName("refused")]
    public IReadOnlyList<ArchivedTurnKey> Refused { get; init; } = [];

    /// <summary>
    /// The newest acceptance time among refusals that no longer fit in <see cref="Refused"/>: any request accepted up
    /// to it that the session has not taken is refused too, so a late copy of one is never taken. Forgotten, as each
    /// refusal is, once the redelivery horizon has passed.
    /// </summary>
    [JsonPropertyName("refusedThrough")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? RefusedThrough { get; init; }

    /// <summary>
    /// The newest turn of the branch the conversation follows (<see cref="Branches"/>); null while the session has never
    /// branched (its turns are one line, in sequence order).
    /// </summary>
    [JsonPropertyName("head")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Head { get; init; }

    /// <summary>The newest turn of each branch line, once the session has branched.</summary>
    [JsonPropertyName("tips")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<BranchTip>? Tips { get; init; }

    /// <summary>Every turn with more than one variant after it: the variants, oldest first.</summary>
    [JsonPropertyName("forks")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<Fork>? Forks { get; init; }

    /// <summary>The session's event that last moved the conversation to another branch; 0 when none has.</summary>
    [JsonPropertyName("branchedEvent")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long BranchedEvent { get; init; }

    /// <summary>
    /// The running-turn slot the session asked its caller's quota for, or holds (<see cref="CallerSlotRules"/>): only
    /// while the caller's running turns are limited and the session has a turn to run.
    /// </summary>
    [JsonPropertyName("slot")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CallerSlot? Slot { get; init; }

    // Fields written by a newer version survive a round trip through this one.
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }

    /// <summary>No words of a conversation: nothing finished, queued, running or archived.</summary>
    [JsonIgnore]
    public bool IsEmpty => Turns.Count == 0 && Pending.Count == 0 && Active is null && ArchivedThrough == 0 && Archiving is null;

    /// <summary>Deleted, and no new life begun since: only the tombstone is stored.</summary>
    [JsonIgnore]
    public bool IsTombstone => DeletedAt is not null && BornAt is null;

    /// <summary>Nothing worth storing at all: no words, no tombstone and no signal on its way.</summary>
    [JsonIgnore]
    public bool IsVoid => IsEmpty && DeletedAt is null && ExpiryCheckAt is null && StopCheckAt is null && RetentionCheckAt is null && Refused.Count == 0 && RefusedThrough is null && Slot is null;
}
