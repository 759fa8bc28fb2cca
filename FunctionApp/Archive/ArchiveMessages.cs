using System.Text.Json.Serialization;
using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>The archive orchestration's input: a batch of finished turns to write.</summary>
public sealed record ArchiveInput(
    [property: JsonPropertyName("sessionKey")] string SessionKey,
    [property: JsonPropertyName("batchId")] string BatchId,
    [property: JsonPropertyName("throughSequence")] long ThroughSequence,
    [property: JsonPropertyName("turns")] IReadOnlyList<TranscriptTurn> Turns,
    [property: JsonPropertyName("retry")] RetrySchedule Retry);

/// <summary>The archive-deletion orchestration's input.</summary>
public sealed record ArchiveDeletion(
    [property: JsonPropertyName("sessionKey")] string SessionKey,
    [property: JsonPropertyName("retry")] RetrySchedule Retry);

/// <summary>An archive activity's input: which session, and for a write, which turns.</summary>
public sealed record ArchiveWork(
    [property: JsonPropertyName("sessionKey")] string SessionKey,
    [property: JsonPropertyName("turns")] IReadOnlyList<TranscriptTurn> Turns);
