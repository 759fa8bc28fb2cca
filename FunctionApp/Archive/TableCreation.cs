using Azure.Data.Tables;

namespace FunctionsChat.Archive;

/// <summary>Creates a table on its first use by this instance, once: the stores over the session table share the rule.</summary>
public sealed class TableCreation(TableClient table)
{
    volatile bool created;

    public async Task EnsureAsync(CancellationToken cancellation)
    {
        if (!created)
        {
            await table.CreateIfNotExistsAsync(cancellation);
            created = true;
        }
    }
}
