using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>Where finished turns go when they leave the session's working set.</summary>
public interface ITranscriptArchive
{
    /// <summary>Writes the turns; writing the same turns again changes nothing (keys are the turn sequences).</summary>
    Task WriteAsync(string sessionKey, IReadOnlyList<TranscriptTurn> turns, CancellationToken cancellation);

    /// <summary>The last <paramref name="limit"/> turns with a sequence below <paramref name="beforeSequence"/>, oldest first.</summary>
    Task<IReadOnlyList<TranscriptTurn>> ReadBeforeAsync(string sessionKey, long beforeSequence, int limit, CancellationToken cancellation);

    /// <summary>Deletes every archived turn of the session; returns how many there were.</summary>
    Task<int> DeleteAsync(string sessionKey, CancellationToken cancellation);
}
