using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>Where finished turns go when they leave the session's working set.</summary>
public interface ITranscriptArchive
{
    /// <summary>Writes the turns; writing the same turns again changes nothing (keys are the turn sequences).</summary>
    Task WriteAsync(string sessionKey, IReadOnlyList<TranscriptTurn> turns, CancellationToken cancellation);

    /// <summary>The last <paramref name="limit"/> turns with a sequence below <paramref name="beforeSequence"/>, oldest first.</summary>
    Task<IReadOnlyList<TranscriptTurn>> ReadBeforeAsync(string sessionKey, long beforeSequence, int limit, CancellationToken cancellation);

    /// <summary>The session's summary of its earliest turns, if one was written.</summary>
    Task<ConversationSummary?> ReadSummaryAsync(string sessionKey, CancellationToken cancellation);

    /// <summary>Replaces the session's summary; it is deleted with the session's archive.</summary>
    Task WriteSummaryAsync(string sessionKey, ConversationSummary summary, CancellationToken cancellation);

    /// <summary>Deletes every archived turn of the session, and its summary; returns how many rows there were.</summary>
    Task<int> DeleteAsync(string sessionKey, CancellationToken cancellation);
}
