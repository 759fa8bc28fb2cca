using System.Text.Json.Serialization;
using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>The archive orchestration's input: a batch of finished turns to write.</summary>
public sealed record ArchiveInput(
    [property: JsonPropertyName("sessionKey")] string SessionKey,
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("throughSequence")] long ThroughSequence,
    [property: JsonPropertyName("turns")] IReadOnlyList<TranscriptTurn> Turns,
    [property: JsonPropertyName("retry")] RetrySchedule Retry)
{
    /// <summary>The input of the orchestration a session starts to archive a batch.</summary>
    public static ArchiveInput For(string sessionKey, ArchiveStart archive, RetrySchedule retry) =>
        new(sessionKey, archive.BatchId, archive.ThroughSequence, archive.Turns, retry) { Purge = PurgeWork.For(sessionKey, archive.Purge) };

    /// <summary>Orchestrations to purge once the batch is written.</summary>
    [JsonPropertyName("purge")]
    public PurgeWork Purge { get; init; } = PurgeWork.None;
}

/// <summary>The archive-deletion orchestration's input.</summary>
public sealed record ArchiveDeletion(
    [property: JsonPropertyName("sessionKey")] string SessionKey,
    [property: JsonPropertyName("retry")] RetrySchedule Retry)
{
    /// <summary>The deleted life's orchestrations to purge.</summary>
    [JsonPropertyName("purge")]
    public PurgeWork Purge { get; init; } = PurgeWork.None;

    /// <summary>The rows to delete: the deleted lives'.</summary>
    [JsonPropertyName("erase")]
    public Erasure Erase { get; init; } = new(DateTimeOffset.MinValue, 0);

    /// <summary>
    /// When the words are swept again if nothing was left running: past the 230 s at which Azure's front end ends a
    /// request, so a request racing the delete has stored its words by then.
    /// </summary>
    [JsonPropertyName("sweepAgainAfter")]
    public TimeSpan SweepAgainAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The session's tombstone was forgotten: after the last sweep, the entity's empty row is purged too.</summary>
    [JsonPropertyName("forget")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Forget { get; init; }
}

/// <summary>Orchestration instances to purge, and how long to wait before trying again those still running.</summary>
public sealed record PurgeWork(
    [property: JsonPropertyName("instanceIds")] IReadOnlyList<string> InstanceIds,
    [property: JsonPropertyName("linger")] TimeSpan Linger)
{
    public static PurgeWork None { get; } = new([], TimeSpan.Zero);

    /// <summary>
    /// Instance id prefixes: every finished instance whose id starts with one is purged too, those a session never
    /// learned of among them.
    /// </summary>
    [JsonPropertyName("prefixes")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public IReadOnlyList<string> Prefixes { get; init; } = [];

    /// <summary>
    /// With <see cref="Prefixes"/>: only turn instances of this run or earlier ones are purged (a turn instance id ends
    /// with its run, generation and sequence), so the working set's turns are never among them.
    /// </summary>
    [JsonPropertyName("runsThrough")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RunsThrough { get; init; }

    public bool IsEmpty => InstanceIds.Count == 0 && Prefixes.Count == 0;

    /// <summary>
    /// The turns' orchestrations and the batches', and every finished turn instance of the session up to the batch's
    /// newest run: those the session never learned of (a start whose operation was not saved) go with them.
    /// </summary>
    public static PurgeWork For(string sessionKey, SessionPurge purge) =>
        new([.. purge.Turns.Select(t => SessionIds.TurnInstanceId(sessionKey, t.TurnId, t.Run)), .. purge.ArchiveBatches.Select(b => SessionIds.ArchiveInstanceId(sessionKey, b))], purge.Linger)
        {
            Prefixes = purge.Turns.Count == 0 ? [] : [SessionIds.TurnPrefix(sessionKey)],
            RunsThrough = purge.Turns.Select(t => t.Run).MaxBy(SessionIds.RunOrder),
        };

    /// <summary>A deleted session's: its known orchestrations and whatever else a prefix query on the session finds.</summary>
    public static PurgeWork ForDeleted(string sessionKey, SessionPurge purge) =>
        For(sessionKey, purge) with { Prefixes = [SessionIds.TurnPrefix(sessionKey), SessionIds.ArchivePrefix(sessionKey)], RunsThrough = null };
}

/// <summary>
/// The input of the orchestration that purges a finished deletion's own instance (which names the session): its
/// instance id only, so what stays behind of it holds nothing of the session.
/// </summary>
public sealed record InstanceSweep(
    [property: JsonPropertyName("purge")] PurgeWork Purge,
    [property: JsonPropertyName("retry")] RetrySchedule Retry);

/// <summary>An archive activity's input: which session, and for a write, which turns.</summary>
public sealed record ArchiveWork(
    [property: JsonPropertyName("sessionKey")] string SessionKey,
    [property: JsonPropertyName("turns")] IReadOnlyList<TranscriptTurn> Turns)
{
    /// <summary>For a deletion: the rows to delete.</summary>
    [JsonPropertyName("erase")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Erasure? Erase { get; init; }
}
