using FunctionsChat.Archive;
using FunctionsChat.Domain;

namespace FunctionsChat.Tests.Http;

/// <summary>
/// A session table in memory (archive, stored words and turn streams), for tests of what reads it; the table-backed
/// ones are tested against Azurite. Safe to share between threads (a live host's requests and its runtime).
/// </summary>
public sealed class InMemoryArchive : ITranscriptArchive, ITurnStreams
{
    /// <summary>Stream rows by session and row key, in the table's order.</summary>
    public SortedDictionary<(string Session, string Row), StreamChunk> StreamRows { get; } = new(Comparer<(string Session, string Row)>.Create((a, b) =>
        string.CompareOrdinal(a.Session, b.Session) is var c and not 0 ? c : string.CompareOrdinal(a.Row, b.Row)));

    public Task AppendAsync(string sessionKey, string stream, StreamChunk chunk, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            StreamRows[(sessionKey, StreamKeys.Row(stream, chunk.Attempt, chunk.Seq))] = chunk;
        }

        return Task.CompletedTask;
    }

    public Task<int> DeleteAsync(string sessionKey, string stream, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            var rows = StreamRows.Keys.Where(k => k.Session == sessionKey && k.Row.StartsWith(stream, StringComparison.Ordinal)).ToArray();
            foreach (var row in rows)
            {
                StreamRows.Remove(row);
            }

            Claims.Remove((sessionKey, stream));

            return Task.FromResult(rows.Length);
        }
    }

    /// <summary>Each turn stream's claim: the execution that holds its model call.</summary>
    public Dictionary<(string Session, string Stream), string> Claims { get; } = [];

    public Task<bool> ClaimAsync(string sessionKey, string stream, string execution, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            if (Claims.TryGetValue((sessionKey, stream), out string? claimant) && string.CompareOrdinal(claimant, execution) >= 0)
            {
                return Task.FromResult(claimant == execution);
            }

            Claims[(sessionKey, stream)] = execution;
            return Task.FromResult(true);
        }
    }

    public Task<string?> ClaimantAsync(string sessionKey, string stream, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            return Task.FromResult(Claims.GetValueOrDefault((sessionKey, stream)));
        }
    }

    public Task<IReadOnlyList<StreamChunk>> ReadAsync(string sessionKey, string stream, string? afterEventId, CancellationToken cancellation)
    {
        string after = StreamKeys.ReadAfter(stream, afterEventId);
        lock (StreamRows)
        {
            IReadOnlyList<StreamChunk> chunks = [.. StreamRows.Where(r => r.Key.Session == sessionKey && r.Key.Row.StartsWith(stream, StringComparison.Ordinal)
                && string.CompareOrdinal(r.Key.Row, after) > 0).Select(r => r.Value)];
            return Task.FromResult(chunks);
        }
    }

    public Dictionary<string, SortedDictionary<long, TranscriptTurn>> Sessions { get; } = [];

    public List<(long Before, int Limit)> Reads { get; } = [];

    public Task WriteAsync(string sessionKey, IReadOnlyList<TranscriptTurn> turns, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            var session = Sessions.TryGetValue(sessionKey, out var s) ? s : Sessions[sessionKey] = [];
            foreach (var turn in turns)
            {
                session[turn.Sequence] = turn;
            }

            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<TranscriptTurn>> ReadBeforeAsync(string sessionKey, long beforeSequence, int limit, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            Reads.Add((beforeSequence, limit));
            IReadOnlyList<TranscriptTurn> page = Sessions.TryGetValue(sessionKey, out var s)
                ? s.Values.Where(t => t.Sequence < beforeSequence).TakeLast(limit).ToArray()
                : [];
            return Task.FromResult(page);
        }
    }

    public Dictionary<string, ConversationSummary> Summaries { get; } = [];

    public Task<ConversationSummary?> ReadSummaryAsync(string sessionKey, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            return Task.FromResult(Summaries.GetValueOrDefault(sessionKey));
        }
    }

    public Task WriteSummaryAsync(string sessionKey, ConversationSummary summary, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            Summaries[sessionKey] = summary;
            return Task.CompletedTask;
        }
    }

    /// <summary>Stored texts by session key and text key.</summary>
    public Dictionary<(string Session, string Key), string> Texts { get; } = [];

    public Task WriteTextAsync(string sessionKey, string key, string text, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            Texts[(sessionKey, key)] = text;
            return Task.CompletedTask;
        }
    }

    public Task<string?> ReadTextAsync(string sessionKey, string key, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            return Task.FromResult(Texts.GetValueOrDefault((sessionKey, key)));
        }
    }

    /// <summary>Request records by session key and turn id.</summary>
    public Dictionary<(string Session, string TurnId), RequestRecord> Requests { get; } = [];

    int versions;

    public Task<RequestRecord?> StoreRequestAsync(string sessionKey, RequestRecord record, string text, RequestRecord? replacing, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            var held = Requests.GetValueOrDefault((sessionKey, record.TurnId));
            if (held is not null && held.ETag != replacing?.ETag)
            {
                return Task.FromResult<RequestRecord?>(held);
            }

            if (held is null && replacing is not null)
            {
                throw new InvalidOperationException("The request's key changed hands while it was stored; try again.");
            }

            Requests[(sessionKey, record.TurnId)] = record with { ETag = $"v{++versions}" };
            Texts[(sessionKey, record.MessageRef)] = text;
            return Task.FromResult<RequestRecord?>(null);
        }
    }

    public Task<RequestRecord?> ReadRequestAsync(string sessionKey, string turnId, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            return Task.FromResult(Requests.GetValueOrDefault((sessionKey, turnId)));
        }
    }

    public Task DeleteTextAsync(string sessionKey, string key, CancellationToken cancellation)
    {
        lock (StreamRows)
        {
            Texts.Remove((sessionKey, key));
            return Task.CompletedTask;
        }
    }

    public Task<int> DeleteAsync(string sessionKey, Erasure erasure, CancellationToken cancellation)
    {
        lock (StreamRows)
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

            foreach (var key in Requests.Where(r => r.Key.Session == sessionKey && r.Value.AcceptedAt <= erasure.AcceptedThrough).Select(r => r.Key).ToArray())
            {
                Requests.Remove(key);
                count++;
            }

            string streamsAfter = StreamKeys.After(erasure.AcceptedThrough);
            var streams = StreamRows.Keys.Where(k => k.Session == sessionKey && string.CompareOrdinal(k.Row, streamsAfter) < 0).ToArray();
            foreach (var key in streams)
            {
                StreamRows.Remove(key);
            }

            foreach (var claim in Claims.Keys.Where(k => k.Session == sessionKey && string.CompareOrdinal(k.Stream, streamsAfter) < 0).ToArray())
            {
                Claims.Remove(claim);
            }

            count += streams.Length;
            var turns = Sessions.GetValueOrDefault(sessionKey);
            var erased = turns?.Values.Where(t => t.AcceptedAt <= erasure.AcceptedThrough).Select(t => t.Sequence).ToArray() ?? [];
            foreach (long sequence in erased)
            {
                turns!.Remove(sequence);
            }

            return Task.FromResult(count + texts.Length + erased.Length);
        }
    }
}
