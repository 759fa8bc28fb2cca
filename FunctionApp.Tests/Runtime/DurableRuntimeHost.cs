using System.Reflection;
using System.Text.Json;
using DurableTask.AzureStorage;
using DurableTask.Core;
using FunctionsChat.Domain;
using FunctionsChat.Tests.Hosting;
using FunctionsChat.Tests.Wiring;
using Microsoft.AspNetCore.Builder;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Entities;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using CoreTaskEntity = DurableTask.Core.Entities.TaskEntity;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// The app on the real Durable Task runtime: DurableTask.Core's <see cref="TaskHubWorker"/> over the Azure Storage
/// backend (on Azurite), with the settings the Durable extension gives it for an isolated app, in a task hub of its own
/// that is deleted at the end. The app's own orchestrators, activities and the <c>ChatSession</c> entity are dispatched
/// through durabletask-dotnet's shims as the isolated worker dispatches them, and its HTTP functions are served on
/// Kestrel with a <see cref="CoreDurableTaskClient"/>. Not here: the Functions host and its gRPC hop to the worker.
/// </summary>
public sealed class DurableRuntimeHost : IAsyncDisposable
{
    readonly WebApplication app;
    readonly TaskHubWorker worker;
    readonly CancellationTokenSource shutdown = new();

    DurableRuntimeHost(WebApplication app, AzureStorageOrchestrationService service, TaskHubWorker worker, CoreDurableTaskClient client, string hub)
    {
        this.app = app;
        Service = service;
        this.worker = worker;
        Client = client;
        TaskHub = hub;
    }

    /// <summary>The worker's serializer (the isolated worker's default), used for every durable payload.</summary>
    public static DataConverter Converter { get; } = new JsonDataConverter(PayloadBudget.WorkerJson);

    public AzureStorageOrchestrationService Service { get; }

    public CoreDurableTaskClient Client { get; }

    public string TaskHub { get; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(100) };

    public IServiceProvider Services => app.Services;

    /// <summary>
    /// Starts the runtime and the HTTP functions over <paramref name="storage"/>, with the app's settings over
    /// <paramref name="settings"/> (the Offline model unless they say otherwise).
    /// </summary>
    public static async Task<DurableRuntimeHost> StartAsync(string storage, IReadOnlyDictionary<string, string?>? settings = null)
    {
        string hub = "chat" + Guid.NewGuid().ToString("N")[..12];
        var builder = HttpFunctionsOnKestrel.Builder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = storage,
            ["TaskHubName"] = hub,
            ["Archive:ConnectionString"] = storage,
            ["Archive:TableName"] = "Chat" + hub,
        });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Services.AddFunctionsChat(builder.Configuration);
        var app = builder.Build();

        var service = new AzureStorageOrchestrationService(HostSettings.For(storage, hub));
        var client = new CoreDurableTaskClient(service, Converter);
        var worker = new TaskHubWorker(service, NullLoggerFactory.Instance) { ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails };
        var host = new DurableRuntimeHost(app, service, worker, client, hub);
        host.Register(new DurableTaskShimFactory(new DurableTaskWorkerOptions { DataConverter = Converter, EnableEntitySupport = true }, NullLoggerFactory.Instance));

        HttpFunctionsOnKestrel.MapFunctions(app, client);
        await app.StartAsync();
        host.Http.BaseAddress = new Uri(app.Urls.Single());
        await worker.StartAsync();
        return host;
    }

    /// <summary>Every function of the app with a Durable trigger, by the name the runtime asks for.</summary>
    void Register(DurableTaskShimFactory shims)
    {
        foreach (var (method, function) in AppFunctions.All())
        {
            var name = new TaskName(function.Name);
            var parameters = method.GetParameters();
            if (parameters.Any(p => p.GetCustomAttribute<OrchestrationTriggerAttribute>() is not null))
            {
                worker.AddTaskOrchestrations(new NewEach<TaskOrchestration>(name.Name, () =>
                    shims.CreateOrchestration(name, new FunctionOrchestrator(method, app.Services, PayloadBudget.WorkerJson, NullLoggerFactory.Instance))));
            }
            else if (parameters.Any(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null))
            {
                worker.AddTaskActivities(new NewEach<TaskActivity>(name.Name, () =>
                    shims.CreateActivity(name, new FunctionActivity(method, app.Services, Client, shutdown.Token))));
            }
            else if (parameters.Any(p => p.GetCustomAttribute<EntityTriggerAttribute>() is not null))
            {
                // The trigger's dispatch (DispatchAsync<T>) runs its own class; entity names are lower case in ids.
                var entity = method.DeclaringType!;
                worker.AddTaskEntities(new NewEach<CoreTaskEntity>(name.Name.ToLowerInvariant(), () =>
                    new EntityPerBatch(shims, () => (ITaskEntity)ActivatorUtilities.CreateInstance(app.Services, entity))));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await shutdown.CancelAsync();
        Http.Dispose();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            // Streams a client left open are cut rather than waited for.
            await app.StopAsync(stop.Token);
        }

        await app.DisposeAsync();
        await worker.StopAsync(isForced: true);
        await Service.DeleteAsync();
        worker.Dispose();
        Service.Dispose();
        shutdown.Dispose();
    }
}
