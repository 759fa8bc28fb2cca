using System.Reflection;
using System.Text.Json;
using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using FunctionsChat.Llm;
using FunctionsChat.Sessions;
using FunctionsChat.Telemetry;
using FunctionsChat.Tests.Http;
using FunctionsChat.Tests.Sessions;
using FunctionsChat.Tests.Telemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;

namespace FunctionsChat.Tests.Simulation;

/// <summary>
/// A deterministic model of the Durable Task runtime as the app relies on it, running the app's own entity operations,
/// orchestrators, activities and HTTP functions. One seed decides every choice the world makes: which message is
/// delivered next, which is duplicated, early or late, where a worker crashes. Only what the platform documents is
/// simulated (see <see cref="Faults"/>).
/// </summary>
public sealed partial class DurableSimulation
{
    /// <summary>The isolated worker's default serializer settings, used for every durable payload (WorkerOptions.Serializer).</summary>
    public static readonly JsonSerializerOptions Serializer = PayloadBudget.WorkerJson;

    public static readonly DateTimeOffset Epoch = new(2026, 6, 1, 9, 0, 0, TimeSpan.Zero);

    static readonly ContextFitter Fitter = new(ContextFitter.CreateTokenizer());

    static readonly Dictionary<string, MethodInfo> Functions = FunctionsChat.Tests.Wiring.AppFunctions.All()
        .ToDictionary(f => f.Function.Name, f => f.Method, StringComparer.OrdinalIgnoreCase);

    readonly List<Work> work = [];
    readonly Random random;
    long nextWorkId;
    long nextClientSender;

    /// <param name="quota">Fair use per caller (off unless given).</param>
    /// <param name="auth">How callers are told apart (all anonymous unless given).</param>
    public DurableSimulation(int seed, SessionOptions? session = null, Faults? faults = null, DateTimeOffset? start = null, FunctionsChat.Quota.QuotaOptions? quota = null, AuthOptions? auth = null)
    {
        Seed = seed;
        random = new Random(seed);
        Time = new SimulatedTime(start ?? Epoch);
        Faults = faults ?? Faults.Platform;
        Session = session ?? new SessionOptions();
        Model = new SimulatedModel(random, () => Faults, Time);
        Services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(Time)
            .AddSingleton(Options.Create(Session))
            .AddSingleton(Options.Create(Api))
            .AddSingleton(Options.Create(new LlmOptions { SystemPrompt = "Be brief." }))
            .AddSingleton(Options.Create(auth ?? new AuthOptions()))
            .AddSingleton(Options.Create(quota ?? new FunctionsChat.Quota.QuotaOptions()))
            .AddSingleton<FunctionsChat.Quota.QuotaOperations>()
            .AddSingleton(TestTelemetry.Create())
            .AddSingleton(Fitter)
            .AddSingleton<ContextAssembler>()
            .AddSingleton<FunctionsChat.Turns.SummarizeConversation>()
            .AddSingleton<FunctionsChat.Turns.TurnNotices>()
            .AddSingleton<IChatClient>(Model)
            .AddSingleton<ITranscriptArchive>(Archive)
            .AddSingleton<ITurnStreams>(Archive)
            .AddSingleton<SessionOperations>()
            .AddSingleton<TurnWaiter>()
            .AddSingleton<MessageAdmission>()
            .AddSingleton<StreamLimiter>()
            .AddSingleton<EventResponses>()
            .AddSingleton<CallerResolver>()
            .BuildServiceProvider();
        Client = CreateClient();
    }

    public int Seed { get; }

    public SimulatedTime Time { get; }

    public DateTimeOffset Now => Time.Now;

    public Faults Faults { get; set; }

    public SessionOptions Session { get; }

    public ApiOptions Api { get; } = new();

    public SimulatedModel Model { get; }

    public InMemoryArchive Archive { get; } = new();

    public IServiceProvider Services { get; }

    public DurableTaskClient Client { get; }

    /// <summary>Committed entity state, serialized as the worker stores it.</summary>
    public Dictionary<EntityInstanceId, string> Entities { get; } = [];

    public Dictionary<string, Instance> Instances { get; } = [];

    public List<string> Trace { get; } = [];

    public Dictionary<string, int> Counts { get; } = [];

    /// <summary>Runs after every step, to check what must always hold.</summary>
    public Action? AfterStep { get; set; }

    /// <summary>Runs when a turn orchestration finishes, with its instance.</summary>
    public Action<Instance>? OnOrchestrationDone { get; set; }

    public IReadOnlyList<Work> Pending => work;

    /// <summary>What the entity answered each orchestration's call, by caller and history slot.</summary>
    public Dictionary<(string Caller, int Incarnation, int Slot), string?> Answers { get; } = [];

    /// <summary>When the session first committed each turn as finished: by session key, turn id and acceptance.</summary>
    public Dictionary<(string Session, string TurnId, DateTimeOffset AcceptedAt), DateTimeOffset> TurnFinishedAt { get; } = [];

    /// <summary>How long after its turn finished each call was answered.</summary>
    public List<TimeSpan> CallLatencies { get; } = [];

    /// <summary>How long after the session stopped its turn each stopped model call ended.</summary>
    public List<TimeSpan> StopLatencies { get; } = [];

    /// <summary>Client reads of an entity that failed, and when.</summary>
    public List<(EntityInstanceId Entity, DateTimeOffset At)> FailedReads { get; } = [];

    /// <summary>Requests whose Enqueue ran once with its state not saved: taken only minutes later, when it runs again.</summary>
    public HashSet<(string Session, string TurnId)> UnsavedRequests { get; } = [];

    /// <summary>The message the last step delivered.</summary>
    public Work? LastDelivered { get; private set; }

    public ChatSessionState? State(EntityInstanceId id) =>
        Entities.TryGetValue(id, out var json) ? JsonSerializer.Deserialize<ChatSessionState>(json, Serializer) : null;

    /// <summary>A caller quota's committed usage.</summary>
    public CallerUsage? Usage(EntityInstanceId id) =>
        Entities.TryGetValue(id, out var json) ? JsonSerializer.Deserialize<CallerUsage>(json, Serializer) : null;

    /// <summary>When each operation a caller's quota was told of was first committed there: by quota, operation and input (copies are one).</summary>
    public Dictionary<(string Caller, string Operation, string? Input), DateTimeOffset> QuotaCommitted { get; } = [];

    /// <summary>
    /// Slot messages (a quota's grants, a session's release) that went out with their operation's state not saved, by
    /// caller's key, over the whole history: each can let one of that caller's sessions run a turn the quota's saved
    /// state does not count, until that turn ends.
    /// </summary>
    public Dictionary<string, int> UnsavedSlotMessages { get; } = [];

    void SlotMessages(string callerKey, RecordingEntityContext context, bool partial)
    {
        if (partial && context.Signals.Any(s => s.Operation is nameof(ChatSession.Granted) or nameof(FunctionsChat.Quota.CallerQuota.Release)))
        {
            UnsavedSlotMessages[callerKey] = UnsavedSlotMessages.GetValueOrDefault(callerKey) + 1;
        }
    }

    public void Count(string what, int by = 1) => Counts[what] = Counts.GetValueOrDefault(what) + by;

    public int Counted(string what) => Counts.GetValueOrDefault(what);

    /// <summary>Runs an HTTP function on the simulation's thread; it goes on as the simulation steps.</summary>
    public Task<T> Request<T>(Func<IServiceProvider, DurableTaskClient, Task<T>> call) => Time.Run(() => call(Services, Client));

    public T Create<T>() => ActivatorUtilities.CreateInstance<T>(Services);

    /// <summary>Delivers one message (or moves the clock to the next one); false when nothing is left to happen.</summary>
    public bool Step()
    {
        CollectActivities();
        // Any due message may go next: host.json sets entityMessageReorderWindowInMinutes to 0, so the runtime sorts no
        // entity messages (MessageSorter.ReceiveInOrder passes each through) and orchestration senders are as unordered as clients.
        var ready = work.Where(w => w.DueAt <= Now).ToList();
        if (ready.Count == 0)
        {
            DateTimeOffset? next = work.Count == 0 ? null : work.Min(w => w.DueAt);
            if (Time.NextTimer is { } timer && (next is null || timer < next))
            {
                next = timer;
            }

            if (next is null)
            {
                return false;
            }

            Time.AdvanceTo(next.Value > Now ? next.Value : Now.AddMilliseconds(1));
            CollectActivities();
            return true;
        }

        DeliverOne(ready);
        Time.AdvanceTo(Now.AddMilliseconds(random.Next(1, 150)));
        CollectActivities();
        return true;
    }

    /// <summary>
    /// For a live host: moves the clock to <paramref name="now"/> (the wall clock) and delivers one message due by
    /// then, if any; false when none is. The clock never runs ahead of the wall.
    /// </summary>
    public bool StepLive(DateTimeOffset now)
    {
        Time.AdvanceTo(now);
        CollectActivities();
        var ready = work.Where(w => w.DueAt <= Now).ToList();
        if (ready.Count == 0)
        {
            return false;
        }

        DeliverOne(ready);
        return true;
    }

    /// <summary>Delivers one of the ready messages, chosen by the seed.</summary>
    void DeliverOne(List<Work> ready)
    {
        var item = ready[random.Next(ready.Count)];
        work.Remove(item);
        LastDelivered = item;
        Time.Run(() =>
        {
            Execute(item);
            return 0;
        });
        CollectActivities();
        AfterStep?.Invoke();
    }

    /// <summary>Steps until <paramref name="done"/> or nothing is left, at most <paramref name="limit"/> steps.</summary>
    public void RunUntil(Func<bool> done, int limit = 100_000)
    {
        for (int i = 0; i < limit && !done(); i++)
        {
            if (!Step())
            {
                return;
            }
        }
    }

    public void Note(string line)
    {
        Trace.Add($"{(Now - Epoch).TotalSeconds,10:0.000}s {line}");
    }

    public bool Chance(double p) => p > 0 && random.NextDouble() < p;

    public int Next(int max) => random.Next(max);

    void Execute(Work item)
    {
        switch (item)
        {
            case SignalWork signal:
                RunEntity(signal, signal.Target, signal.Operation, signal.Input, null);
                break;
            case CallWork call:
                RunEntity(call, call.Target, call.Operation, call.Input, call);
                break;
            case StartWork start:
                StartOrchestration(start);
                break;
            case ActivityWork activity:
                RunActivity(activity);
                break;
            case ResultWork result:
                DeliverResult(result);
                break;
        }
    }

    bool Crashes(Work item)
    {
        if (!Chance(Faults.Crash))
        {
            return false;
        }

        item.DueAt = Now.AddMilliseconds(random.Next(0, 2000));
        work.Add(item);
        Note($"crash before {item} was recorded; it runs again");
        Count("crashes");
        return true;
    }

    public void Add(Work item)
    {
        item.Id = nextWorkId++;
        work.Add(item);
    }

    /// <summary>The largest durable payload this history produced, in serialized bytes, and what it was.</summary>
    public (int Bytes, string What) LargestPayload { get; private set; }

    /// <summary>Serializes a durable payload as the worker does, and measures it.</summary>
    string? Serialize(object? value)
    {
        if (value is null)
        {
            return null;
        }

        string json = JsonSerializer.Serialize(value, value.GetType(), Serializer);
        int bytes = PayloadBudget.StoredBytes(System.Text.Encoding.UTF8.GetBytes(json));
        if (bytes > LargestPayload.Bytes)
        {
            LargestPayload = (bytes, value.GetType().Name);
        }

        return json;
    }

    /// <summary>When a durable timer due at <paramref name="at"/> fires: on time, or up to a second early.</summary>
    public DateTimeOffset TimerFires(DateTime at)
    {
        if (Chance(Faults.EarlyTimer))
        {
            Count("timers fired early");
            return at - TimeSpan.FromMilliseconds(random.Next(1, 1000));
        }

        return at;
    }

    DateTimeOffset Deliver(DateTimeOffset at)
    {
        if (at <= Now)
        {
            return Now;
        }

        if ((int)((at - Now).Ticks / Faults.MaxSignalDelay.Ticks) is > 0 and int hops)
        {
            Count("signal hops beyond the maximum delay", hops);
        }
        if (Chance(Faults.EarlySignal))
        {
            at -= TimeSpan.FromMilliseconds(random.Next(1, 1000));
        }

        if (Chance(Faults.LateSignal))
        {
            at += TimeSpan.FromMilliseconds(random.Next(1, (int)Faults.MaxLate.TotalMilliseconds));
        }

        return at;
    }

    /// <summary>A client's read of an entity's committed state, which fails as often as the faults say.</summary>
    Task<EntityMetadata<T>?> Read<T>(EntityInstanceId id, Func<EntityInstanceId, T?> committed)
        where T : class
    {
        if (Chance(Faults.ClientReadFails))
        {
            FailedReads.Add((id, Now));
            Count("client reads that failed");
            return Task.FromException<EntityMetadata<T>?>(new TimeoutException("The entity read timed out."));
        }

        return Task.FromResult(committed(id) is { } state ? new EntityMetadata<T>(id, state) : null);
    }

    /// <summary>A history that broke a promise: its trace saved where FUNCTIONSCHAT_SIM_TRACE says, and how to replay it.</summary>
    public Exception Broke(string what, Exception e, string replay)
    {
        if (Environment.GetEnvironmentVariable("FUNCTIONSCHAT_SIM_TRACE") is { Length: > 0 } tracePath)
        {
            File.WriteAllLines(tracePath, Trace);
        }

        return new InvalidOperationException(
            $"Seed {Seed} broke {what}: {e.Message}{Environment.NewLine}Replay with {replay}. Last steps:{Environment.NewLine}" + string.Join(Environment.NewLine, Trace.TakeLast(40)), e);
    }

    DurableTaskClient CreateClient()
    {
        var entities = new Mock<DurableEntityClient>(MockBehavior.Strict, "sim");
        entities.Setup(e => e.GetEntityAsync<ChatSessionState>(It.IsAny<EntityInstanceId>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, bool, CancellationToken>((id, _, _) => Read(id, State));
        entities.Setup(e => e.GetEntityAsync<CallerUsage>(It.IsAny<EntityInstanceId>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, bool, CancellationToken>((id, _, _) => Read(id, Usage));
        entities.Setup(e => e.SignalEntityAsync(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>(), It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, string, object?, SignalEntityOptions?, CancellationToken>((id, operation, input, _, _) =>
            {
                Count("client signals");
                string? json = Serialize(input);
                int copies = Chance(Faults.DuplicateClientSignal) ? 2 : 1;
                for (int i = 0; i < copies; i++)
                {
                    var spread = Faults.ClientSignalSpread * (i + 1);
                    var due = Now.AddMilliseconds(random.Next(0, (int)spread.TotalMilliseconds + 1));
                    if (i > 0 && Chance(Faults.LateClientCopy))
                    {
                        // Seen again once its visibility timeout passed: minutes after the first copy.
                        due = Now + Faults.VisibilityTimeout + TimeSpan.FromMilliseconds(random.Next(0, 60_000));
                        Count("client signal copies minutes late");
                    }

                    Add(new SignalWork(id, operation, json, $"client{nextClientSender++}", Delayed: false, FromClient: true) { DueAt = due });
                }

                Note($"client signals {operation} to {id.Key}{(copies > 1 ? " (delivered twice)" : "")}");
                return Task.CompletedTask;
            });
        entities.Setup(e => e.GetAllEntitiesAsync<ChatSessionState>(It.IsAny<EntityQuery?>()))
            .Returns<EntityQuery?>(query => Pageable.Create((string? after, int? size, CancellationToken _) => Task.FromResult(ListPage(query, after, size))));
        var client = new Mock<DurableTaskClient>(MockBehavior.Strict, "sim");
        client.SetupGet(c => c.Entities).Returns(entities.Object);
        client.Setup(c => c.TerminateInstanceAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns<string, CancellationToken>((id, _) => Terminate(id));
        client.Setup(c => c.PurgeInstanceAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns<string, CancellationToken>((id, _) =>
            {
                // As the Azure Storage backend does (PurgeInstanceHistoryAsync): the instance goes whatever its status.
                if (Instances.Remove(id, out var instance))
                {
                    Count(instance.Status == InstanceStatus.Running ? "running instances purged" : "instances purged");
                    Note($"purged {id} ({instance.Status})");
                    return Task.FromResult(new PurgeResult(1));
                }

                return Task.FromResult(new PurgeResult(0));
            });
        client.Setup(c => c.GetInstanceAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .Returns<string, bool, CancellationToken>((id, _, _) => Task.FromResult(Instances.TryGetValue(id, out var instance) ? Metadata(instance) : null));
        client.Setup(c => c.GetAllInstancesAsync(It.IsAny<OrchestrationQuery?>()))
            .Returns<OrchestrationQuery?>(query => Pageable.Create((string? after, int? size, CancellationToken _) => Task.FromResult(InstancePage(query, after, size))));
        client.Setup(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .Returns<TaskName, object?, StartOrchestrationOptions?, CancellationToken>((name, input, options, _) =>
            {
                string id = options?.InstanceId ?? Guid.NewGuid().ToString("N");
                if (Instances.TryGetValue(id, out var running) && running.Status == InstanceStatus.Running
                    || work.Any(w => w is StartWork { FromClient: true } queued && queued.InstanceId == id))
                {
                    // The host's start refuses an instance id that is running or about to.
                    return Task.FromException<string>(new InvalidOperationException($"An instance with ID '{id}' already exists."));
                }

                Add(new StartWork(name.Name, id, Serialize(input)) { FromClient = true, DueAt = Now });
                return Task.FromResult(id);
            });
        return client.Object;
    }

    static OrchestrationMetadata Metadata(Instance instance) => new(instance.Name, instance.Id)
    {
        RuntimeStatus = instance.Status switch
        {
            InstanceStatus.Running => OrchestrationRuntimeStatus.Running,
            InstanceStatus.Completed => OrchestrationRuntimeStatus.Completed,
            InstanceStatus.Failed => OrchestrationRuntimeStatus.Failed,
            _ => OrchestrationRuntimeStatus.Terminated,
        },
        CreatedAt = instance.StartedAt,
    };

    /// <summary>As the backend's instance query: ids with the prefix in order, a page at a time, resuming after the last id.</summary>
    Page<OrchestrationMetadata> InstancePage(OrchestrationQuery? query, string? after, int? size)
    {
        var matching = Instances.Values
            .Where(i => i.Id.StartsWith(query?.InstanceIdPrefix ?? "", StringComparison.Ordinal) && string.CompareOrdinal(i.Id, after ?? "") > 0)
            .OrderBy(i => i.Id, StringComparer.Ordinal)
            .ToList();
        var page = matching.Take(size ?? query?.PageSize ?? OrchestrationQuery.DefaultPageSize).ToList();
        return new(page.Select(Metadata).ToList(), matching.Count > page.Count ? page[^1].Id : null);
    }

    /// <summary>As the backend's entity query: ids with the prefix in order, a page at a time, resuming after the last id.</summary>
    Page<EntityMetadata<ChatSessionState>> ListPage(EntityQuery? query, string? after, int? size)
    {
        var matching = Entities.Keys
            .Select(id => (Id: id, Text: id.ToString()))
            .Where(e => e.Text.StartsWith(query?.InstanceIdStartsWith ?? "@", StringComparison.Ordinal) && string.CompareOrdinal(e.Text, after ?? "") > 0)
            .OrderBy(e => e.Text, StringComparer.Ordinal)
            .ToList();
        var page = matching.Take(size ?? query?.PageSize ?? EntityQuery.DefaultPageSize).ToList();
        return new(page.Select(e => new EntityMetadata<ChatSessionState>(e.Id, State(e.Id))).ToList(), matching.Count > page.Count ? page[^1].Text : null);
    }

    void RunEntity(Work item, EntityInstanceId id, string operation, string? input, CallWork? call)
    {
        if (string.Equals(id.Name, nameof(FunctionsChat.Quota.CallerQuota), StringComparison.OrdinalIgnoreCase))
        {
            RunQuota(item, id, operation, input);
            return;
        }

        // As TaskEntity<T> dispatches: one public method of that name, any case; its input read by the worker's serializer.
        var method = typeof(ChatSession).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Single(m => string.Equals(m.Name, operation, StringComparison.OrdinalIgnoreCase));
        var inputType = method.GetParameters().Single(p => p.ParameterType != typeof(TaskEntityContext)).ParameterType;
        var state = State(id) ?? ChatSessionState.Empty;
        object? argument = input is null ? null : JsonSerializer.Deserialize(input, inputType, Serializer);
        var context = new RecordingEntityContext(id.Key);
        var operations = Services.GetRequiredService<SessionOperations>();
        var outcome = (SessionOutcome)typeof(SessionOperations).GetMethod(method.Name)!.Invoke(operations, [state, argument, context.Object])!;
        if (Crashes(item))
        {
            return;
        }

        if (call is not null && method.Name == nameof(ChatSession.Complete) && Chance(Faults.EntityOperationThrows))
        {
            // The operation throws: its state and actions roll back, and the caller gets the failure (TaskEntityShim).
            Count("entity operations that threw");
            Note($"{id.Key}.{method.Name} threw");
            var thrown = new TaskFailureDetails("System.InvalidOperationException", "The session could not take the report.", null, null, null);
            Add(new ResultWork(call.Caller, call.Incarnation, call.Slot, new SlotResult(null, thrown, Now)) { DueAt = Now });
            return;
        }

        bool partial = Chance(Faults.PartialCommit);
        if (partial)
        {
            // The worker is lost after the backend sent the operation's messages and before it saved its state: the
            // messages are out, and the operation runs again from the old state once its message is visible again.
            Count("entity operations whose messages went out unsaved");
            if (method.Name == nameof(ChatSession.Enqueue) && argument is TurnRequest unsaved)
            {
                UnsavedRequests.Add((id.Key, unsaved.TurnId));
            }

            Note($"{id.Key}.{method.Name}: messages sent, state not saved; it runs again");
            item.DueAt = Now + TimeSpan.FromMilliseconds(random.Next(1_000, (int)Faults.VisibilityTimeout.TotalMilliseconds));
            work.Add(item);
        }

        Count($"entity {method.Name}");
        foreach (var finished in partial ? [] : outcome.State?.Turns ?? [])
        {
            TurnFinishedAt.TryAdd((id.Key, finished.TurnId, finished.AcceptedAt), Now);
        }

        if (partial)
        {
            // Nothing saved.
        }
        else if (outcome.State is null)
        {
            Entities.Remove(id);
        }
        else
        {
            Entities[id] = Serialize(outcome.State)!;
        }

        SlotMessages(SessionKeys.OwnerOf(id.Key), context, partial);
        SendFrom(id, context, partial);
        if (call is not null)
        {
            string? result = method.ReturnType == typeof(void) ? null : method.ReturnType == typeof(bool) ? Serialize(outcome.Answer == true) : Serialize(outcome.Verdict);
            Answers[(call.Caller, call.Incarnation, call.Slot)] = result;
            Add(new ResultWork(call.Caller, call.Incarnation, call.Slot, new SlotResult(result, null, Now)) { DueAt = Now });
        }

        Note($"{id.Key}.{method.Name}({Shorten(input)}) -> {(outcome.State is null ? "no state" : Describe(outcome.State))}");
    }

    /// <summary>What an entity operation sends: its orchestration starts and its signals, out even when its state is not saved.</summary>
    void SendFrom(EntityInstanceId id, RecordingEntityContext context, bool partial)
    {
        foreach (var (name, orchestrationInput, options) in context.Scheduled)
        {
            Add(new StartWork(name, options?.InstanceId ?? $"auto-{nextWorkId}", Serialize(orchestrationInput)) { DueAt = Now });
        }

        foreach (var (target, signalled, signalInput, options) in context.Signals)
        {
            bool delayed = options?.SignalTime is not null;
            Add(new SignalWork(target, signalled, Serialize(signalInput), id.ToString(), delayed, FromClient: false)
            {
                DueAt = delayed ? Deliver(options!.SignalTime!.Value) : Now,
                Unsaved = partial,
            });
            if (delayed)
            {
                Count("delayed signals");
            }
        }
    }

    /// <summary>As TaskEntity&lt;CallerUsage&gt; dispatches a caller's quota: one of its operations over the committed usage.</summary>
    void RunQuota(Work item, EntityInstanceId id, string operation, string? input)
    {
        var method = typeof(FunctionsChat.Quota.QuotaOperations).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Single(m => string.Equals(m.Name, operation, StringComparison.OrdinalIgnoreCase));
        var inputType = method.GetParameters().Select(p => p.ParameterType).Skip(1).FirstOrDefault(t => t != typeof(TaskEntityContext));
        var context = new RecordingEntityContext(id);
        object? argument = inputType is null || input is null ? null : JsonSerializer.Deserialize(input, inputType, Serializer);
        object?[] arguments = inputType is null ? [Usage(id) ?? new CallerUsage(), context.Object] : [Usage(id) ?? new CallerUsage(), argument, context.Object];
        var usage = (CallerUsage?)method.Invoke(Services.GetRequiredService<FunctionsChat.Quota.QuotaOperations>(), arguments);
        if (Crashes(item))
        {
            return;
        }

        bool partial = Chance(Faults.PartialCommit);
        Count($"quota {method.Name}");
        if (partial)
        {
            Count("entity operations whose messages went out unsaved");
            Note($"{id}.{method.Name}: messages sent, state not saved; it runs again");
            item.DueAt = Now + TimeSpan.FromMilliseconds(random.Next(1_000, (int)Faults.VisibilityTimeout.TotalMilliseconds));
            work.Add(item);
        }
        else
        {
            QuotaCommitted.TryAdd((id.Key, method.Name, input), Now);

            if (usage is null)
            {
                Entities.Remove(id);
            }
            else
            {
                Entities[id] = Serialize(usage)!;
            }
        }

        SlotMessages(id.Key, context, partial);
        SendFrom(id, context, partial);
        Note($"{id}.{method.Name}({Shorten(input)}) -> running [{string.Join(",", usage?.Running?.Select(h => h.Session) ?? [])}] waiting [{string.Join(",", usage?.Waiting?.Select(h => h.Session) ?? [])}]");
    }

    static string Describe(ChatSessionState s) =>
        s.IsTombstone ? $"tombstone@{s.DeletedAt:HH:mm:ss.fff}"
        : $"gen {s.Generation} active {s.Active?.Turn.TurnId ?? "-"} pending [{string.Join(",", s.Pending.Select(p => p.TurnId))}] done [{string.Join(",", s.Turns.Select(t => $"{t.TurnId}:{t.Status}"))}]";

    static string Shorten(string? text) => text is null ? "" : text.Length > 80 ? text[..80] + "…" : text;
}
