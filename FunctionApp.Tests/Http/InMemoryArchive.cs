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

    /// <summary>Stored texts by session key and text key.</summary>
    public Dictionary<(string Session, string Key), string> Texts { get; } = [];

    public Task WriteTextAsync(string sessionKey, string key, string text, CancellationToken cancellation)
    {
        Texts[(sessionKey, key)] = text;
        return Task.CompletedTask;
    }

    public Task<string?> ReadTextAsync(string sessionKey, string key, CancellationToken cancellation) =>
        Task.FromResult(Texts.GetValueOrDefault((sessionKey, key)));

    public Task DeleteTextAsync(string sessionKey, string key, CancellationToken cancellation)
    {
        Texts.Remove((sessionKey, key));
        return Task.CompletedTask;
    }

    public Task<int> DeleteAsync(string sessionKey, Erasure erasure, CancellationToken cancellation)
    {
        int count = 0;
        if (Summaries.TryGetValue(sessionKey, out var summary) && summary.Generation <= erasure.Generation)
        {
            Summaries.Remove(sessionKey);
            count++;
        }

        string after = TextKeys.After(erasure.AcceptedThrough);
        var texts = Texts.Keys.Where(k => k.Session == sessionKey && string.CompareOrdinal(k.Key, after) < 0).ToArray();
        foreach (var key in texts)
        {
            Texts.Remove(key);
        }

        var turns = Sessions.GetValueOrDefault(sessionKey);
        var erased = turns?.Values.Where(t => t.AcceptedAt <= erasure.AcceptedThrough).Select(t => t.Sequence).ToArray() ?? [];
        foreach (long sequence in erased)
        {
            turns!.Remove(sequence);
        }

        return Task.FromResult(count + texts.Length + erased.Length);
    }
}
