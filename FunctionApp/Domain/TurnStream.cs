using System.Globalization;
using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

/// <summary>
/// A piece of a turn's streamed answer, as the model activity flushed it: the attempt that wrote it (a retried
/// attempt starts a stream of its own, and readers of the old one reset), its place in that attempt, and whether it
/// is the attempt's last.
/// </summary>
public sealed record StreamChunk(
    [property: JsonPropertyName("attempt")] string Attempt,
    [property: JsonPropertyName("seq")] int Seq,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("last")] bool Last)
{
    /// <summary>The number of the session's newest event its writer had seen: its place among the session's events.</summary>
    [JsonPropertyName("after")]
    public long After { get; init; }

    /// <summary>The chunk's event id: its attempt and place, so a reader resumes right after it.</summary>
    public string EventId => $"{Attempt}.{Seq.ToString("D6", CultureInfo.InvariantCulture)}";
}

/// <summary>
/// Where a turn's stream lives in the session's table: <c>y</c>, the moment the API accepted the turn (so a deleted
/// life's streams are one key range, like its stored words) and the turn id's fingerprint; then each row's attempt
/// (its start, so attempts sort in the order they began, and a random tail) and place.
/// </summary>
public static class StreamKeys
{
    public const string Prefix = "y";

    public static string Of(DateTimeOffset acceptedAt, string turnId) =>
        $"{Prefix}{acceptedAt.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}{Fingerprint.Of(turnId)}";

    /// <summary>A new attempt's name: when it began, then a random tail that tells apart two begun at once.</summary>
    public static string NewAttempt(DateTimeOffset startedAt) =>
        $"{startedAt.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}{Guid.NewGuid().ToString("N")[..8]}";

    public static string Row(string stream, string attempt, int seq) => $"{stream}{attempt}{seq.ToString("D6", CultureInfo.InvariantCulture)}";

    /// <summary>A position to read from that comes before an attempt's first chunk: every chunk of it, and later attempts'.</summary>
    public static string BeforeAttempt(string attempt) => attempt + ".";

    /// <summary>
    /// Where a reader's next read of a turn's stream starts (an event id, for <see cref="ReadAfter"/>): right after the
    /// chunk it saw last in the attempt it follows; from the start of the accepted attempt once the turn finished with
    /// another; from the very start when it saw nothing.
    /// </summary>
    public static string? ResumeAfter(string? accepted, string? followed, string? lastChunk)
    {
        string? attempt = accepted is null || accepted == followed ? followed : accepted;
        return attempt == followed && lastChunk is { } last ? last : attempt is null ? null : BeforeAttempt(attempt);
    }

    /// <summary>
    /// The row key a read resumes strictly after: the stream's own prefix (before every row) when nothing was seen,
    /// or the row of the event id seen last (<see cref="StreamChunk.EventId"/>, or <see cref="BeforeAttempt"/>).
    /// </summary>
    public static string ReadAfter(string stream, string? afterEventId) =>
        afterEventId is null ? stream : stream + afterEventId.Replace(".", "", StringComparison.Ordinal);

    /// <summary>The first key after every stream of turns accepted up to <paramref name="through"/>.</summary>
    public static string After(DateTimeOffset through) => $"{Prefix}{through.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}~";
}
