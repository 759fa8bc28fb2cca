using Azure.Data.Tables;
using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>
/// Turn streams as rows of the session's partition of the archive table (<see cref="StreamKeys"/>): one row a flushed
/// chunk, so a reader's resume is one range query from its last event id, and a session's deletion takes its streams
/// with its other rows (<see cref="TableTranscriptArchive.DeleteAsync"/>).
/// </summary>
public sealed class TableTurnStreams(TableClient table) : ITurnStreams
{
    readonly TableCreation creation = new(table);

    public async Task AppendAsync(string sessionKey, string stream, StreamChunk chunk, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        var entity = new TableEntity(sessionKey, StreamKeys.Row(stream, chunk.Attempt, chunk.Seq))
        {
            ["Attempt"] = chunk.Attempt,
            ["Seq"] = chunk.Seq,
            ["Text"] = chunk.Text,
            ["Last"] = chunk.Last,
            ["After"] = chunk.After,
        };
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellation);
    }

    public async Task<IReadOnlyList<StreamChunk>> ReadAsync(string sessionKey, string stream, string? afterEventId, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        string filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {sessionKey} and RowKey gt {StreamKeys.ReadAfter(stream, afterEventId)} and RowKey lt {stream + "~"}");
        var chunks = new List<StreamChunk>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellation))
        {
            chunks.Add(new StreamChunk(row.GetString("Attempt") ?? "", row.GetInt32("Seq") ?? 0, row.GetString("Text") ?? "", row.GetBoolean("Last") == true) { After = row.GetInt64("After") ?? 0 });
        }

        return chunks;
    }

    public async Task<int> DeleteAsync(string sessionKey, string stream, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {sessionKey} and RowKey ge {stream} and RowKey lt {stream + "~"}");
        var keys = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellation))
        {
            keys.Add(row.RowKey);
        }

        foreach (var chunk in keys.Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(sessionKey, k), Azure.ETag.All)), cancellation);
        }

        // The claim is a row of the stream too, but not a chunk.
        return keys.Count(k => k != stream);
    }

    /// <summary>
    /// The claim is the stream's first row (its key is the stream's own, before every chunk), replaced only under its
    /// ETag, so two executions claiming at once end with the later one holding it.
    /// </summary>
    public async Task<bool> ClaimAsync(string sessionKey, string stream, string execution, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        while (true)
        {
            var held = await table.GetEntityIfExistsAsync<TableEntity>(sessionKey, stream, cancellationToken: cancellation);
            string? claimant = held.HasValue ? held.Value!.GetString(ClaimantColumn) : null;
            if (claimant is not null && string.CompareOrdinal(claimant, execution) >= 0)
            {
                return claimant == execution;
            }

            var claim = new TableEntity(sessionKey, stream) { [ClaimantColumn] = execution };
            try
            {
                if (held.HasValue)
                {
                    await table.UpdateEntityAsync(claim, held.Value!.ETag, TableUpdateMode.Replace, cancellation);
                }
                else
                {
                    await table.AddEntityAsync(claim, cancellation);
                }

                return true;
            }
            catch (Azure.RequestFailedException conflict) when (conflict.Status is 409 or 412)
            {
                // Another execution claimed it in between: read it again.
            }
        }
    }

    public async Task<string?> ClaimantAsync(string sessionKey, string stream, CancellationToken cancellation)
    {
        await EnsureTableAsync(cancellation);
        var held = await table.GetEntityIfExistsAsync<TableEntity>(sessionKey, stream, [ClaimantColumn], cancellation);
        return held.HasValue ? held.Value!.GetString(ClaimantColumn) : null;
    }

    const string ClaimantColumn = "Claimant";

    Task EnsureTableAsync(CancellationToken cancellation) => creation.EnsureAsync(cancellation);
}
