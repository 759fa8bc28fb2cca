using FunctionsChat.Archive;
using FunctionsChat.Domain;

namespace FunctionsChat.Tests.Http;

/// <summary>An archive in memory, for tests of what reads it; the table-backed one is tested against Azurite.</summary>
public sealed class InMemoryArchive : ITranscriptArchive
{
    public Dictionary<string, SortedDictionary<long, TranscriptTurn>> Sessions { get; } = [];

    public List<(long Before, int Limit)> Reads { get; } = [];

    public Task WriteAsync(string sessionKey, IReadOnlyList<TranscriptTurn> turns, CancellationToken cancellation)
    {
        var session = Sessions.TryGetValue(sessionKey, out var s) ? s : Sessions[sessionKey] = [];
        foreach (var turn in turns)
        {
            session[turn.Sequence] = turn;
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<TranscriptTurn>> ReadBeforeAsync(string sessionKey, long beforeSequence, int limit, CancellationToken cancellation)
    {
        Reads.Add((beforeSequence, limit));
        IReadOnlyList<TranscriptTurn> page = Sessions.TryGetValue(sessionKey, out var s)
            ? s.Values.Where(t => t.Sequence < beforeSequence).TakeLast(limit).ToArray()
            : [];
        return Task.FromResult(page);
    }

    public Dictionary<string, ConversationSummary> Summaries { get; } = [];

    public Task<ConversationSummary?> ReadSummaryAsync(string sessionKey, CancellationToken cancellation) =>
        Task.FromResult(Summaries.GetValueOrDefault(sessionKey));

    public Task WriteSummaryAsync(string sessionKey, ConversationSummary summary, CancellationToken cancellation)
    {
        Summaries[sessionKey] = summary;
        return Task.CompletedTask;
    }

    public Task<int> DeleteAsync(string sessionKey, CancellationToken cancellation)
    {
        Summaries.Remove(sessionKey);
        return Task.FromResult(Sessions.Remove(sessionKey, out var s) ? s.Count : 0);
    }
}
