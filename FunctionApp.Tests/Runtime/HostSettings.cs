using System.Text.Json;
using DurableTask.AzureStorage;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// The Azure Storage backend's settings as the Durable extension (3.x, the host side of Worker.Extensions.DurableTask)
/// builds them for a .NET isolated app on a dedicated plan, with what this repository's host.json sets over them.
/// </summary>
static class HostSettings
{
    public static AzureStorageOrchestrationServiceSettings For(string storage, string hub) => new()
    {
        StorageAccountClientProvider = new StorageAccountClientProvider(storage),
        TaskHubName = hub,
        PartitionCount = 4,
        MaxQueuePollingInterval = PollingInterval,
        ControlQueueBufferThreshold = 256,
        MaxConcurrentTaskOrchestrationWorkItems = 10 * Environment.ProcessorCount,
        MaxConcurrentTaskActivityWorkItems = 10 * Environment.ProcessorCount,
        MaxConcurrentTaskEntityWorkItems = 10 * Environment.ProcessorCount,
        MaxEntityOperationBatchSize = 5000,
        EntityMessageReorderWindowInMinutes = ReorderWindowMinutes,
        // Isolated apps dispatch entities on work items of their own.
        UseSeparateQueueForEntityWorkItems = true,
        // A client start that names a running instance is refused.
        ThrowExceptionOnInvalidDedupeStatus = true,
        UseTablePartitionManagement = true,
        ExtendedSessionsEnabled = false,
        FetchLargeMessageDataEnabled = true,
    };

    /// <summary>The extensions.durableTask section of this repository's host.json, read once.</summary>
    static readonly JsonElement DurableTask = ReadDurableTask();

    /// <summary>extensions.durableTask.storageProvider.maxQueuePollingInterval in host.json (30 s when it says nothing).</summary>
    static readonly TimeSpan PollingInterval =
        DurableTask.TryGetProperty("storageProvider", out var provider) && provider.TryGetProperty("maxQueuePollingInterval", out var interval)
            ? TimeSpan.Parse(interval.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            : TimeSpan.FromSeconds(30);

    /// <summary>extensions.durableTask.entityMessageReorderWindowInMinutes in host.json (30 when it says nothing).</summary>
    static readonly int ReorderWindowMinutes =
        DurableTask.TryGetProperty("entityMessageReorderWindowInMinutes", out var minutes) ? minutes.GetInt32() : 30;

    static JsonElement ReadDurableTask()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryFiles.Root.FullName, "host.json")));
        return host.RootElement.GetProperty("extensions").GetProperty("durableTask").Clone();
    }
}
