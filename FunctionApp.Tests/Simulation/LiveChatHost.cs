using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Http;
using FunctionsChat.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;

namespace FunctionsChat.Tests.Simulation;

/// <summary>
/// The app's HTTP functions (<see cref="HttpFunctionsOnKestrel"/>) over a simulation that runs in real time. The runtime
/// steps on its own thread, its clock following the wall's; requests reach it through one lock.
/// </summary>
public sealed class LiveChatHost : IAsyncDisposable
{
    readonly object gate = new();
    readonly WebApplication app;
    readonly Thread runtime;
    volatile bool stopping;

    LiveChatHost(DurableSimulation sim, WebApplication app)
    {
        Sim = sim;
        this.app = app;
        runtime = new Thread(Run) { IsBackground = true, Name = "simulated runtime" };
    }

    public DurableSimulation Sim { get; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>What broke the runtime's thread, if anything did.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Starts the runtime and the server; <paramref name="configure"/> sets up the simulation first (faults, model).</summary>
    /// <param name="quota">Fair use per caller (off unless given).</param>
    public static async Task<LiveChatHost> StartAsync(Action<DurableSimulation>? configure = null, FunctionsChat.Quota.QuotaOptions? quota = null)
    {
        var sim = new DurableSimulation(seed: 1, faults: Faults.None, start: DateTimeOffset.UtcNow, quota: quota);
        configure?.Invoke(sim);
        var builder = HttpFunctionsOnKestrel.Builder();
        builder.Services
            .AddSingleton(TimeProvider.System)
            .AddSingleton(Options.Create(sim.Api))
            .AddSingleton(Options.Create(new AuthOptions()))
            .AddSingleton<ITranscriptArchive>(sim.Archive)
            .AddSingleton<ITurnStreams>(sim.Archive)
            .AddSingleton<TurnWaiter>()
            .AddSingleton<MessageAdmission>()
            .AddSingleton(Options.Create(sim.Session))
            .AddSingleton(sim.Services.GetRequiredService<IOptions<FunctionsChat.Quota.QuotaOptions>>())
            .AddSingleton(sim.Services.GetRequiredService<FunctionsChat.Turns.TurnNotices>())
            .AddSingleton<StreamLimiter>()
            .AddSingleton<EventResponses>()
            .AddSingleton<CallerResolver>();
        var app = builder.Build();
        var host = new LiveChatHost(sim, app);
        HttpFunctionsOnKestrel.MapFunctions(app, host.LockedClient());

        await app.StartAsync();
        host.Http.BaseAddress = new Uri(app.Urls.Single());
        host.runtime.Start();
        return host;
    }

    /// <summary>The simulation's Durable client, one request at a time against the runtime's thread.</summary>
    DurableTaskClient LockedClient()
    {
        var inner = Sim.Client.Entities;
        var entities = new Mock<DurableEntityClient>(MockBehavior.Strict, "live");
        entities.Setup(e => e.GetEntityAsync<FunctionsChat.Domain.ChatSessionState>(It.IsAny<EntityInstanceId>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, bool, CancellationToken>((id, state, c) =>
            {
                lock (gate)
                {
                    return Task.FromResult(inner.GetEntityAsync<FunctionsChat.Domain.ChatSessionState>(id, state, c).Result);
                }
            });
        entities.Setup(e => e.GetEntityAsync<FunctionsChat.Domain.CallerUsage>(It.IsAny<EntityInstanceId>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, bool, CancellationToken>((id, state, c) =>
            {
                lock (gate)
                {
                    return Task.FromResult(inner.GetEntityAsync<FunctionsChat.Domain.CallerUsage>(id, state, c).Result);
                }
            });
        entities.Setup(e => e.SignalEntityAsync(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>(), It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, string, object?, SignalEntityOptions?, CancellationToken>((id, operation, input, options, c) =>
            {
                lock (gate)
                {
                    inner.SignalEntityAsync(id, operation, input, options, c).Wait(c);
                    return Task.CompletedTask;
                }
            });
        entities.Setup(e => e.GetAllEntitiesAsync<FunctionsChat.Domain.ChatSessionState>(It.IsAny<EntityQuery?>()))
            .Returns<EntityQuery?>(query => Microsoft.DurableTask.Pageable.Create((string? after, int? size, CancellationToken c) =>
            {
                lock (gate)
                {
                    var pages = inner.GetAllEntitiesAsync<FunctionsChat.Domain.ChatSessionState>(query).AsPages(after, size).GetAsyncEnumerator(c);
                    return Task.FromResult(pages.MoveNextAsync().AsTask().Result ? pages.Current : new Microsoft.DurableTask.Page<EntityMetadata<FunctionsChat.Domain.ChatSessionState>>([]));
                }
            }));
        var client = new Mock<DurableTaskClient>(MockBehavior.Strict, "live");
        client.SetupGet(c => c.Entities).Returns(entities.Object);
        client.Setup(c => c.TerminateInstanceAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns<string, CancellationToken>((id, c) =>
            {
                lock (gate)
                {
                    return Sim.Client.TerminateInstanceAsync(id, c);
                }
            });
        return client.Object;
    }

    void Run()
    {
        try
        {
            while (!stopping)
            {
                lock (gate)
                {
                    while (Sim.StepLive(DateTimeOffset.UtcNow))
                    {
                    }
                }

                Thread.Sleep(2);
            }
        }
        catch (Exception e)
        {
            Failure = e;
        }
    }

    public async ValueTask DisposeAsync()
    {
        stopping = true;
        runtime.Join();
        Http.Dispose();
        // Streams a client left open (a browser's event stream) are cut rather than waited for.
        using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await app.StopAsync(shutdown.Token);
        await app.DisposeAsync();
    }
}
