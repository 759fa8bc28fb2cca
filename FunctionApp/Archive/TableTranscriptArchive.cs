using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>
/// The archive in Azure Table storage: one partition a session, one row a turn. The row key inverts the sequence,
/// so a page of the newest turns before a cursor is one range query. The message and the answer are stored as their
/// UTF-8 bytes in binary properties of at most 64 KiB each (no JSON escaping, so text the serializer would widen
/// six-fold costs its own size), the rest of the turn as a small JSON property; a row stays under the 1 MiB entity
/// limit and a batch of rows under the 4 MiB transaction limit. Rows written by earlier versions (the whole turn's
/// JSON split over string properties) are still read. The same partition holds the session's summary and the whole
/// text of every message and answer (<see cref="TextKeys"/>), the copies its durable payloads refer to.
/// </summary>
public sealed class TableTranscriptArchive(TableClient table) : ITranscriptArchive
{
    const int ChunkBytes = 64 * 1024;
    const int MaxRowBytes = 960 * 1024;
    const int MaxTransaction = 100;

    // Binary travels base64-encoded in a batch request: 4 MiB of payload holds about 3 MiB of raw row bytes.
    const long MaxTransactionBytes = 2_800_000;

    const int Format = 2;

    const string SummaryRow = "summary";

    readonly TableCreation creation = new(table);

    public static string RowKey(long sequence) => (long.MaxValue - sequence).ToString("D19", CultureInfo.InvariantCulture);

    public async Task WriteAsync(string sessionKey, IReadOnlyList<TranscriptTurn> turns, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        var batch = new List<TableTransactionAction>();
        long batchBytes = 0;
        foreach (var turn in turns)
        {
            var (entity, bytes) = ToEntity(sessionKey, turn);
            if (batch.Count == MaxTransaction || (batch.Count > 0 && batchBytes + bytes > MaxTransactionBytes))
            {
                await table.SubmitTransactionAsync(batch, cancellation);
                batch = [];
                batchBytes = 0;
            }

            batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, entity));
            batchBytes += bytes;
        }

        if (batch.Count > 0)
        {
            await table.SubmitTransactionAsync(batch, cancellation);
        }
    }

    public async Task<IReadOnlyList<TranscriptTurn>> ReadBeforeAsync(string sessionKey, long beforeSequence, int limit, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        // Turn rows have all-digit keys; ':' sorts right after '9', so the session's other rows (its summary) stay out.
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {sessionKey} and RowKey gt {RowKey(beforeSequence)} and RowKey lt {":"}");
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

    public async Task<ConversationSummary?> ReadSummaryAsync(string sessionKey, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(sessionKey, SummaryRow, cancellationToken: cancellation);
        return row.HasValue && row.Value is { } entity
            ? new ConversationSummary(entity.GetInt64("Through") ?? 0, Join(entity, "Text"), entity.GetDateTimeOffset("WrittenAt") ?? default) { Generation = entity.GetInt64("Generation") ?? 0 }
            : null;
    }

    public async Task WriteSummaryAsync(string sessionKey, ConversationSummary summary, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        var entity = new TableEntity(sessionKey, SummaryRow)
        {
            ["Through"] = summary.Through,
            ["WrittenAt"] = summary.WrittenAt,
            ["Generation"] = summary.Generation,
        };
        Split(entity, "Text", Encoding.UTF8.GetBytes(summary.Text));
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellation);
    }

    public async Task WriteTextAsync(string sessionKey, string key, string text, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        await table.UpsertEntityAsync(TextEntity(sessionKey, key, text), TableUpdateMode.Replace, cancellation);
    }

    public async Task<RequestRecord?> StoreRequestAsync(string sessionKey, RequestRecord record, string text, RequestRecord? replacing, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        var row = new TableEntity(sessionKey, RequestRecord.Key(record.TurnId))
        {
            ["MessageHash"] = record.MessageHash,
            ["AcceptedAt"] = record.AcceptedAt,
            ["MessageRef"] = record.MessageRef,
        };
        var claim = replacing?.ETag is { } etag
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, new ETag(etag))
            : new TableTransactionAction(TableTransactionActionType.Add, row);
        try
        {
            await table.SubmitTransactionAsync([claim, new TableTransactionAction(TableTransactionActionType.UpsertReplace, TextEntity(sessionKey, record.MessageRef, text))], cancellation);
            return null;
        }
        catch (TableTransactionFailedException failed) when (failed.FailedTransactionActionIndex is null or 0 && failed.Status is 404 or 409 or 412)
        {
            // Another request holds the key (or the record read has changed or gone): whatever holds it now is the answer.
            return await ReadRequestAsync(sessionKey, record.TurnId, cancellation)
                ?? throw new RequestFailedException(failed.Status, "The request's key changed hands while it was stored; try again.", failed);
        }
    }

    public async Task<RequestRecord?> ReadRequestAsync(string sessionKey, string turnId, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(sessionKey, RequestRecord.Key(turnId), cancellationToken: cancellation);
        return row.HasValue && row.Value is { } entity
            ? new RequestRecord(turnId, entity.GetString("MessageHash"), entity.GetDateTimeOffset("AcceptedAt") ?? default, entity.GetString("MessageRef"), entity.ETag.ToString())
            : null;
    }

    static TableEntity TextEntity(string sessionKey, string key, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > MaxRowBytes)
        {
            throw new InvalidOperationException($"A text of {bytes.Length} bytes is more than one table row holds.");
        }

        var entity = new TableEntity(sessionKey, key);
        Split(entity, "Text", bytes);
        return entity;
    }

    public async Task<string?> ReadTextAsync(string sessionKey, string key, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        var row = await table.GetEntityIfExistsAsync<TableEntity>(sessionKey, key, cancellationToken: cancellation);
        return row.HasValue && row.Value is { } entity ? Join(entity, "Text") : null;
    }

    public async Task DeleteTextAsync(string sessionKey, string key, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        await table.DeleteEntityAsync(sessionKey, key, ETag.All, cancellation);
    }

    public async Task<int> DeleteAsync(string sessionKey, Erasure erasure, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {sessionKey}");
        var keys = new List<string>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: ["RowKey", "AcceptedAt", "Generation"], cancellationToken: cancellation))
        {
            if (Erased(entity, erasure))
            {
                keys.Add(entity.RowKey);
            }
        }

        foreach (var chunk in keys.Chunk(MaxTransaction))
        {
            var actions = chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(sessionKey, k), ETag.All));
            await table.SubmitTransactionAsync(actions, cancellation);
        }

        return keys.Count;
    }

    /// <summary>
    /// Whether a row belongs to an erased life: a stored text by its key, the summary by its life, a turn by when it
    /// was accepted (rows written before turns carried that are older than any life that could follow).
    /// </summary>
    static bool Erased(TableEntity row, Erasure erasure) => row.RowKey switch
    {
        SummaryRow => (row.GetInt64("Generation") ?? 0) <= erasure.Generation,
        var key when key.StartsWith(TextKeys.Prefix, StringComparison.Ordinal) => string.CompareOrdinal(key, TextKeys.After(erasure.AcceptedThrough)) < 0,
        var key when key.StartsWith(StreamKeys.Prefix, StringComparison.Ordinal) => string.CompareOrdinal(key, StreamKeys.After(erasure.AcceptedThrough)) < 0,
        _ => row.GetDateTimeOffset("AcceptedAt") is not { } accepted || accepted <= erasure.AcceptedThrough,
    };

    Task EnsureTableAsync(CancellationToken cancellation) => creation.EnsureAsync(cancellation);

    static (TableEntity Entity, long Bytes) ToEntity(string sessionKey, TranscriptTurn turn)
    {
        string metadata = JsonSerializer.Serialize(turn with { Message = "", Answer = null });
        byte[] message = Encoding.UTF8.GetBytes(turn.Message);
        byte[] answer = turn.Answer is null ? [] : Encoding.UTF8.GetBytes(turn.Answer);
        long bytes = (metadata.Length * 2L) + message.Length + answer.Length;
        if (bytes > MaxRowBytes)
        {
            throw new InvalidOperationException($"Turn {turn.TurnId} needs {bytes} bytes, more than one table row holds.");
        }

        var entity = new TableEntity(sessionKey, RowKey(turn.Sequence))
        {
            ["Sequence"] = turn.Sequence,
            ["TurnId"] = turn.TurnId,
            ["Format"] = Format,
            ["AcceptedAt"] = turn.AcceptedAt,
            ["Turn"] = metadata,
            ["HasAnswer"] = turn.Answer is not null,
        };
        Split(entity, "Message", message);
        Split(entity, "Answer", answer);
        return (entity, bytes + 512);
    }

    static void Split(TableEntity entity, string name, byte[] bytes)
    {
        int chunks = (bytes.Length + ChunkBytes - 1) / ChunkBytes;
        entity[name + "Chunks"] = chunks;
        for (int i = 0; i < chunks; i++)
        {
            entity[$"{name}{i}"] = bytes.AsSpan(i * ChunkBytes, Math.Min(ChunkBytes, bytes.Length - (i * ChunkBytes))).ToArray();
        }
    }

    static string Join(TableEntity entity, string name)
    {
        int chunks = entity.GetInt32(name + "Chunks") ?? 0;
        var bytes = new List<byte>();
        for (int i = 0; i < chunks; i++)
        {
            bytes.AddRange(entity.GetBinary($"{name}{i}") ?? []);
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    static TranscriptTurn FromEntity(TableEntity entity)
    {
        if (entity.GetInt32("Format") == Format)
        {
            var turn = JsonSerializer.Deserialize<TranscriptTurn>(entity.GetString("Turn") ?? "")
                ?? throw new InvalidDataException($"Archived row {entity.RowKey} holds no turn.");
            return turn with { Message = Join(entity, "Message"), Answer = entity.GetBoolean("HasAnswer") == true ? Join(entity, "Answer") : null };
        }

        // Rows of the first format: the whole turn's JSON over string properties Turn0, Turn1, ...
        int chunks = entity.GetInt32("Chunks") ?? 0;
        string json = string.Concat(Enumerable.Range(0, chunks).Select(i => entity.GetString($"Turn{i}")));
        return JsonSerializer.Deserialize<TranscriptTurn>(json) ?? throw new InvalidDataException($"Archived row {entity.RowKey} holds no turn.");
    }
}
