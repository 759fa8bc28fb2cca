using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>
/// The durable streams of turns' answers, written by the model activity as the model speaks and read by whoever
/// follows the turn. Kept in the session's table here; a push service may implement it too.
/// </summary>
public interface ITurnStreams
{
    /// <summary>Appends a chunk to a turn's stream; appending the same chunk again changes nothing.</summary>
    Task AppendAsync(string sessionKey, string stream, StreamChunk chunk, CancellationToken cancellation);

    /// <summary>Deletes a turn's stream, every attempt; returns how many chunks there were.</summary>
    Task<int> DeleteAsync(string sessionKey, string stream, CancellationToken cancellation);

    /// <summary>The stream's chunks after the one with <paramref name="afterEventId"/> (all, when null), every attempt, in order.</summary>
    Task<IReadOnlyList<StreamChunk>> ReadAsync(string sessionKey, string stream, string? afterEventId, CancellationToken cancellation);

    /// <summary>
    /// Claims the turn's model call for one execution of its orchestration (see <c>ReplyRequest.Execution</c>: later
    /// executions sort after earlier ones): true unless a later execution holds the claim, which is then kept.
    /// </summary>
    Task<bool> ClaimAsync(string sessionKey, string stream, string execution, CancellationToken cancellation);

    /// <summary>The execution that holds the turn's model call; null when none has claimed it (or the stream is gone).</summary>
    Task<string?> ClaimantAsync(string sessionKey, string stream, CancellationToken cancellation);
}
