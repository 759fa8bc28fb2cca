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

    // Fields written by a newer version survive a round trip through this one.
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }

    [JsonIgnore]
    public bool IsEmpty => Turns.Count == 0 && Pending.Count == 0 && Active is null && ArchivedThrough == 0 && Archiving is null;
}
