using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>
/// The archive in Azure Table storage: one partition a session, one row a turn. The row key inverts the sequence,
/// so a page of the newest turns before a cursor is one range query. A turn's JSON is split over string properties
/// of at most 30,000 characters (a property holds 64 KiB of UTF-16), within the 1 MiB entity limit.
/// </summary>
public sealed class TableTranscriptArchive(TableClient table) : ITranscriptArchive
{
    const int ChunkChars = 30_000;
    const int MaxChunks = 16;
    const int MaxTransaction = 100;

    volatile bool created;

    public static string RowKey(long sequence) => (long.MaxValue - sequence).ToString("D19", CultureInfo.InvariantCulture);

    public async Task WriteAsync(string sessionKey, IReadOnlyList<TranscriptTurn> turns, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        foreach (var chunk in turns.Chunk(MaxTransaction))
        {
            var actions = chunk.Select(t => new TableTransactionAction(TableTransactionActionType.UpsertReplace, ToEntity(sessionKey, t)));
            await table.SubmitTransactionAsync(actions, cancellation);
        }
    }

    public async Task<IReadOnlyList<TranscriptTurn>> ReadBeforeAsync(string sessionKey, long beforeSequence, int limit, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {sessionKey} and RowKey gt {RowKey(beforeSequence)}");
        var turns = new List<TranscriptTurn>(limit);
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: limit, cancellationToken: cancellation))
        {
            turns.Add(FromEntity(entity));
            if (turns.Count == limit)
            {
                break;
            }
        }

        turns.Reverse();
        return turns;
    }

    public async Task<int> DeleteAsync(string sessionKey, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {sessionKey}");
        var keys = new List<string>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellation))
        {
            keys.Add(entity.RowKey);
        }

        foreach (var chunk in keys.Chunk(MaxTransaction))
        {
            var actions = chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(sessionKey, k), ETag.All));
            await table.SubmitTransactionAsync(actions, cancellation);
        }

        return keys.Count;
    }

    async Task EnsureTableAsync(CancellationToken cancellation)
    {
        if (!created)
        {
            await table.CreateIfNotExistsAsync(cancellation);
            created = true;
        }
    }

    static TableEntity ToEntity(string sessionKey, TranscriptTurn turn)
    {
        string json = JsonSerializer.Serialize(turn);
        int chunks = (json.Length + ChunkChars - 1) / ChunkChars;
        if (chunks > MaxChunks)
        {
            throw new InvalidOperationException($"Turn {turn.TurnId} is {json.Length} characters of JSON, more than one table row holds.");
        }

        var entity = new TableEntity(sessionKey, RowKey(turn.Sequence))
        {
            ["Sequence"] = turn.Sequence,
            ["TurnId"] = turn.TurnId,
            ["Chunks"] = chunks,
        };
        for (int i = 0; i < chunks; i++)
        {
            entity[$"Turn{i}"] = json.Substring(i * ChunkChars, Math.Min(ChunkChars, json.Length - (i * ChunkChars)));
        }

        return entity;
    }

    static TranscriptTurn FromEntity(TableEntity entity)
    {
        int chunks = entity.GetInt32("Chunks") ?? 0;
        string json = string.Concat(Enumerable.Range(0, chunks).Select(i => entity.GetString($"Turn{i}")));
        return JsonSerializer.Deserialize<TranscriptTurn>(json) ?? throw new InvalidDataException($"Archived row {entity.RowKey} holds no turn.");
    }
}
