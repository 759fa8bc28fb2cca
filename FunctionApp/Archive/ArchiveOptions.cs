namespace FunctionsChat.Archive;

/// <summary>
/// The <c>Archive</c> configuration section: where older turns are kept. Unset, it uses the Functions host's own
/// storage: the <c>AzureWebJobsStorage</c> connection string locally, or its identity-based table endpoint and
/// client id in Azure.
/// </summary>
public sealed class ArchiveOptions
{
    public const string Section = "Archive";

    public string? ConnectionString { get; set; }

    public Uri? TableServiceUri { get; set; }

    public string? ManagedIdentityClientId { get; set; }

    public string TableName { get; set; } = "ChatTranscripts";
}
