using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// What the Azure Storage backend stored for a task hub, read from its own tables and blob container: the largest table
/// value in the unit the backend measures (UTF-16 bytes; over 60 KiB goes to blobs), an entity's scheduler state, and
/// how many payloads went to the large-message container.
/// </summary>
public sealed record StoredSizes(int EntityStateBytes, int LargestTableValueBytes, string LargestTableValue, IReadOnlyList<string> Blobs)
{
    public static async Task<StoredSizes> ReadAsync(string storage, string hub, string entityInstanceId)
    {
        var tables = new TableServiceClient(storage);
        int entityState = 0, largest = 0;
        string where = "";
        foreach (string table in new[] { hub + "Instances", hub + "History" })
        {
            await foreach (var row in tables.GetTableClient(table).QueryAsync<TableEntity>())
            {
                foreach (var (name, value) in row)
                {
                    if (value is not string text)
                    {
                        continue;
                    }

                    int bytes = Encoding.Unicode.GetByteCount(text);
                    if (table.EndsWith("Instances", StringComparison.Ordinal) && row.PartitionKey == entityInstanceId && name == "Input")
                    {
                        entityState = bytes;
                    }

                    if (bytes > largest)
                    {
                        (largest, where) = (bytes, $"{table} {row.PartitionKey[..Math.Min(40, row.PartitionKey.Length)]} {name}");
                    }
                }
            }
        }

        var container = new BlobServiceClient(storage).GetBlobContainerClient(hub.ToLowerInvariant() + "-largemessages");
        var blobs = new List<string>();
        if (await container.ExistsAsync())
        {
            await foreach (var blob in container.GetBlobsAsync())
            {
                blobs.Add($"{blob.Name} ({blob.Properties.ContentLength:N0} B)");
            }
        }

        return new StoredSizes(entityState, largest, where, blobs);
    }

    public int LargeMessageBlobs => Blobs.Count;

    public override string ToString() =>
        $"entity scheduler state {EntityStateBytes:N0} B (UTF-16), largest table value {LargestTableValueBytes:N0} B ({LargestTableValue}), large-message blobs {LargeMessageBlobs}{(Blobs.Count > 0 ? ": " + string.Join(", ", Blobs) : "")}";
}
