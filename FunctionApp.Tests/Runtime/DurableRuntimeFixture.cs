using FunctionsChat.Tests.Archive;
using FunctionsChat.Tests.Llm;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// Azurite and a scriptable model server for the real-runtime tests; each test starts a <see cref="DurableRuntimeHost"/>
/// of its own (a fresh task hub) over them with the settings it needs.
/// </summary>
public sealed class DurableRuntimeFixture : IAsyncLifetime
{
    readonly AzuriteFixture azurite = new();

    public LoopbackModelServer Model { get; private set; } = null!;

    public string Storage => azurite.ConnectionString;

    public async Task InitializeAsync()
    {
        await azurite.InitializeAsync();
        Model = await LoopbackModelServer.StartAsync();
    }

    /// <summary>The app over the loopback model (an OpenAI-compatible endpoint), with <paramref name="settings"/> over it.</summary>
    public Task<DurableRuntimeHost> StartAsync(params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["Llm:Provider"] = "OpenAI",
            ["Llm:Endpoint"] = new Uri(Model.BaseAddress, "v1").ToString(),
            ["Llm:Model"] = "gpt-4o-mini",
            ["Llm:ApiKey"] = "test-key",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return DurableRuntimeHost.StartAsync(Storage, all);
    }

    public async Task DisposeAsync()
    {
        await Model.DisposeAsync();
        await azurite.DisposeAsync();
    }
}

/// <summary>
/// The real-runtime tests run alone, after the others: each host registers the app's own telemetry, whose tracer
/// listens process-wide, and their printed timings should not share the two cores with the simulation.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DurableRuntimeCollection : ICollectionFixture<DurableRuntimeFixture>
{
    public const string Name = "Durable runtime";
}
