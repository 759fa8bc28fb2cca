using Azure.Data.Tables;
using Azure.Identity;
using Microsoft.Extensions.Configuration;

namespace FunctionsChat.Archive;

/// <summary>Connects the archive to the Functions host's own storage account unless told otherwise.</summary>
public static class ArchiveConnection
{
    public static void FillFromHost(ArchiveOptions options, IConfiguration configuration)
    {
        if (options.TableServiceUri is { OriginalString.Length: 0 })
        {
            options.TableServiceUri = null; // an empty setting is no setting
        }

        if (options.ConnectionString is { Length: > 0 } || options.TableServiceUri is not null)
        {
            return;
        }

        if (configuration["AzureWebJobsStorage"] is { Length: > 0 } connectionString)
        {
            options.ConnectionString = connectionString;
        }
        else if (configuration["AzureWebJobsStorage:tableServiceUri"] is { Length: > 0 } uri)
        {
            options.TableServiceUri = new Uri(uri);
            if (string.IsNullOrEmpty(options.ManagedIdentityClientId))
            {
                // The sample settings carry the setting empty: empty means unset, so the host's identity is used.
                options.ManagedIdentityClientId = configuration["AzureWebJobsStorage:clientId"];
            }
        }
    }

    public static TableClient Table(ArchiveOptions options)
    {
        var service = options.ConnectionString is { Length: > 0 } connectionString
            ? new TableServiceClient(connectionString)
            : new TableServiceClient(options.TableServiceUri!, string.IsNullOrEmpty(options.ManagedIdentityClientId)
                ? new DefaultAzureCredential()
                : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.ManagedIdentityClientId }));
        return service.GetTableClient(options.TableName);
    }
}
