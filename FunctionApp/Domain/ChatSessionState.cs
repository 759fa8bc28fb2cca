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

    /// <summary>Finished turns (completed, failed, cancelled) in the order they finished.</summary>
    [JsonPropertyName("turns")]
    public IReadOnlyList<TranscriptTurn> Turns { get; init; } = [];

    [JsonPropertyName("pending")]
    public IReadOnlyList<QueuedTurn> Pending { get; init; } = [];

    [JsonPropertyName("active")]
    public ActiveTurn? Active { get; init; }

    // Fields written by a newer version survive a round trip through this one.
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }

    [JsonIgnore]
    public bool IsEmpty => Turns.Count == 0 && Pending.Count == 0 && Active is null;
}
