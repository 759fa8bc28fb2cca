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

    /// <summary>Stores the whole text of a message or an answer under its key (<see cref="TextKeys"/>); the same again changes nothing.</summary>
    Task WriteTextAsync(string sessionKey, string key, string text, CancellationToken cancellation);

    /// <summary>A stored text, or null when there is none under the key.</summary>
    Task<string?> ReadTextAsync(string sessionKey, string key, CancellationToken cancellation);

    /// <summary>
    /// Stores a request's words and its record in one transaction, unless another record holds its key: then nothing
    /// is stored and that record is returned. A record given as <paramref name="replacing"/> is replaced only as it
    /// was read (its <see cref="RequestRecord.ETag"/>); null: the request was stored.
    /// </summary>
    Task<RequestRecord?> StoreRequestAsync(string sessionKey, RequestRecord record, string text, RequestRecord? replacing, CancellationToken cancellation);

    /// <summary>The record of the request stored under a turn id, or null.</summary>
    Task<RequestRecord?> ReadRequestAsync(string sessionKey, string turnId, CancellationToken cancellation);

    /// <summary>Deletes one stored text (a message the session did not take).</summary>
    Task DeleteTextAsync(string sessionKey, string key, CancellationToken cancellation);

    /// <summary>
    /// Deletes the rows of the erased lives: archived turns and stored texts of turns accepted up to its moment, and a
    /// summary written in one of them; a later life's rows stay. Returns how many rows went.
    /// </summary>
    Task<int> DeleteAsync(string sessionKey, Erasure erasure, CancellationToken cancellation);
}
