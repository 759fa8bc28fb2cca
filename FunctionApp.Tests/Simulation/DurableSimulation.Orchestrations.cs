using System.Reflection;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace FunctionsChat.Tests.Simulation;

public sealed partial class DurableSimulation
{
    static readonly Task<SlotResult> Never = new TaskCompletionSource<SlotResult>().Task;

    /// <summary>As the client does: a running instance ends, terminated; one that is not running cannot be (the host throws).</summary>
    Task Terminate(string instanceId)
    {
        if (!Instances.TryGetValue(instanceId, out var instance) || instance.Status != InstanceStatus.Running)
        {
            throw new InvalidOperationException($"Cannot terminate the orchestration instance {instanceId} because instance is not running.");
        }

        instance.Status = InstanceStatus.Terminated;
        Count("turn orchestrations terminated by a cancel");
        Note($"{instanceId} terminated");
        return Task.CompletedTask;
    }

    void StartOrchestration(StartWork start)
    {
        if (Instances.TryGetValue(start.InstanceId, out var existing) && existing.Status == InstanceStatus.Running && start.FromClient)
        {
            // A client's start of a running instance is refused (the start's de-duplication statuses).
            Count("client starts refused (instance running)");
            Note($"start of {start.InstanceId} refused: it is running");
            return;
        }

        if (existing?.Status == InstanceStatus.Running)
        {
            // On Azure Storage only client starts are de-duplicated: an entity's start of a running instance replaces
            // it. The replaced execution's activities run on; their results reach no one.
            Count("running orchestrations replaced by a start");
            Note($"start of {start.InstanceId} replaces the running execution");
        }

        if (Crashes(start))
        {
            return;
        }

        var instance = new Instance(start.InstanceId, start.Name, start.Input, (existing?.Incarnation ?? 0) + 1, Now);
        Instances[start.InstanceId] = instance;
        if (start.Name == nameof(FunctionsChat.Turns.ChatTurn) && Chance(Faults.TerminatedTurn))
        {
            instance.Status = InstanceStatus.Failed;
            instance.Output = "terminated";
            Count("turn orchestrations terminated");
            Note($"{start.InstanceId} terminated before it ran");
            return;
        }

        Count($"orchestration {start.Name}");
        Note($"start {start.Name} {start.InstanceId}{(existing is null ? "" : " (replacing an earlier execution)")}");
        Replay(instance, trigger: -1);
    }

    void DeliverResult(ResultWork result)
    {
        if (!Instances.TryGetValue(result.InstanceId, out var instance) || instance.Incarnation != result.Incarnation || instance.Status != InstanceStatus.Running)
        {
            Note($"result for {result.InstanceId} dropped: the instance is gone");
            return;
        }

        if (instance.History[result.Slot].Result is not null)
        {
            // A second answer to one call (its entity operation ran again after its messages were out): the slot holds the first.
            Note($"result for {result.InstanceId} slot {result.Slot} dropped: the slot has its result");
            return;
        }

        if (Crashes(result))
        {
            return;
        }

        instance.History[result.Slot] = (instance.History[result.Slot].Action, result.Result with { At = Now });
        Replay(instance, result.Slot);
    }

    void RunActivity(ActivityWork activity)
    {
        var function = Functions[activity.Name];
        var trigger = FunctionsChat.Tests.Runtime.FunctionInvoker.ActivityTrigger(function);
        object? input = activity.Input is null ? null : JsonSerializer.Deserialize(activity.Input, trigger.ParameterType, Serializer);
        object?[] arguments = FunctionsChat.Tests.Runtime.FunctionInvoker.ActivityArguments(function, input, Client, CancellationToken.None);
        object? target = function.IsStatic ? null : ActivatorUtilities.CreateInstance(Services, function.DeclaringType!);
        var task = (Task)function.Invoke(target, arguments)!;
        Time.Pump();
        if (!task.IsCompleted)
        {
            // It goes on as the clock moves (a model that takes its time); its result is recorded when it ends.
            running.Add((activity, task));
            return;
        }

        Finish(activity, task);
    }

    /// <summary>Activities still running, in the order they began.</summary>
    readonly List<(ActivityWork Activity, Task Task)> running = [];

    /// <summary>How many activities are running.</summary>
    public int ActivitiesRunning => running.Count;

    /// <summary>Records the results of the activities that have ended since the last look, in the order they began.</summary>
    void CollectActivities()
    {
        foreach (var ended in running.Where(r => r.Task.IsCompleted).ToList())
        {
            running.Remove(ended);
            Finish(ended.Activity, ended.Task);
        }
    }

    void Finish(ActivityWork activity, Task task)
    {
        Count($"activity {activity.Name}");
        var outcome = task.IsFaulted
            ? new SlotResult(null, Failure(task.Exception!.InnerException!), Now)
            : new SlotResult(Serialize(task.GetType().GetProperty("Result")?.GetValue(task)), null, Now);
        if (Chance(Faults.ActivityRunsAgain))
        {
            // The activity ran, but its result was never recorded: the runtime runs it again.
            item(activity);
            Note($"activity {activity.Name} of {activity.InstanceId} ran, result lost; it runs again");
            Count("activity results lost");
            return;
        }

        Note($"activity {activity.Name} of {activity.InstanceId} {(outcome.Failure is null ? "succeeded" : "failed: " + outcome.Failure.ErrorMessage)}");
        Add(new ResultWork(activity.InstanceId, activity.Incarnation, activity.Slot, outcome) { DueAt = Now });

        void item(Work again)
        {
            again.DueAt = Now.AddMilliseconds(random.Next(0, 3000));
            work.Add(again);
        }
    }

    static TaskFailureDetails Failure(Exception exception) =>
        new(exception.GetType().FullName!, exception.Message, null, exception.InnerException is { } inner ? Failure(inner) : null, null);

    /// <summary>Runs the orchestrator from the start against its history, as the runtime replays it, and records what it did next.</summary>
    void Replay(Instance instance, int trigger)
    {
        var episode = new Episode(this, instance, trigger);
        var function = Functions[instance.Name];
        object? target = function.IsStatic ? null : ActivatorUtilities.CreateInstance(Services, function.DeclaringType!);
        var task = (Task)function.Invoke(target, [episode.Context])!;
        Time.Pump();
        foreach (var (action, result, message) in episode.Added)
        {
            instance.History.Add((action, result));
            if (message is not null)
            {
                Add(message);
            }
        }

        if (!task.IsCompleted)
        {
            return;
        }

        instance.Status = task.IsFaulted ? InstanceStatus.Failed : InstanceStatus.Completed;
        instance.Output = task.IsFaulted ? task.Exception!.InnerException!.Message : Serialize(task.GetType().GetProperty("Result")?.GetValue(task) is { } r && r.GetType().Name != "VoidTaskResult" ? r : null);
        Note($"{instance.Name} {instance.Id} {instance.Status}: {Shorten(instance.Output)}");
        OnOrchestrationDone?.Invoke(instance);
    }

    static Guid DeterministicGuid(string name) => new(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(name)));

    /// <summary>One replay of an orchestration: a context whose every durable action takes the next slot of the history.</summary>
    sealed class Episode
    {
        readonly DurableSimulation sim;
        readonly Instance instance;
        readonly int trigger;
        int cursor;
        DateTime now;

        public Episode(DurableSimulation sim, Instance instance, int trigger)
        {
            this.sim = sim;
            this.instance = instance;
            this.trigger = trigger;
            now = instance.StartedAt.UtcDateTime;
            var context = new Mock<TaskOrchestrationContext>(MockBehavior.Strict);
            var entities = new Mock<TaskOrchestrationEntityFeature>(MockBehavior.Strict);
            context.Setup(c => c.GetInput<It.IsAnyType>()).Returns(new InvocationFunc(call =>
                instance.Input is null ? null! : JsonSerializer.Deserialize(instance.Input, call.Method.GetGenericArguments()[0], Serializer)!));
            context.SetupGet(c => c.CurrentUtcDateTime).Returns(() => now);
            context.SetupGet(c => c.IsReplaying).Returns(() => cursor <= trigger);
            context.SetupGet(c => c.InstanceId).Returns(instance.Id);
            // As the runtime derives it: from the instance, this execution and a counter, the same in every replay.
            int guids = 0;
            context.Setup(c => c.NewGuid()).Returns(() => DeterministicGuid($"{instance.Id}/{instance.Incarnation}/{guids++}"));
            context.SetupGet(c => c.Entities).Returns(entities.Object);
            context.Setup(c => c.CreateReplaySafeLogger(It.IsAny<Type>())).Returns(() => IsReplaying ? NullLogger.Instance : sim.Services.GetRequiredService<ILoggerFactory>().CreateLogger(instance.Name));
            context.Setup(c => c.CallActivityAsync<It.IsAnyType>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>())).Returns(new InvocationFunc(call =>
                Typed(call.Method.GetGenericArguments()[0], nameof(CallActivity), call.Arguments[0], call.Arguments[1], call.Arguments[2])));
            context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>())).Returns<DateTime, CancellationToken>((at, _) =>
                Take($"timer {at:O}", slot => new ResultWork(instance.Id, instance.Incarnation, slot, new SlotResult(null, null, at)) { DueAt = sim.TimerFires(at) }));
            entities.Setup(e => e.CallEntityAsync<It.IsAnyType>(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CallEntityOptions?>())).Returns(new InvocationFunc(call =>
                Typed(call.Method.GetGenericArguments()[0], nameof(CallEntity), call.Arguments[0], call.Arguments[1], call.Arguments[2])));
            entities.Setup(e => e.SignalEntityAsync(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()))
                .Returns<EntityInstanceId, string, object?, SignalEntityOptions?>((id, operation, input, _) =>
                {
                    Take($"signal {id} {operation}", _ => new SignalWork(id, operation, sim.Serialize(input), instance.Id, Delayed: false, FromClient: false) { DueAt = sim.Now }, sent: true);
                    if (sim.Chance(sim.Faults.DuplicateOrchestrationSignal))
                    {
                        // Unsorted, nothing de-duplicates a message the queue delivers again.
                        sim.Count("orchestration signals delivered twice");
                        sim.Add(new SignalWork(id, operation, sim.Serialize(input), instance.Id, Delayed: false, FromClient: false) { DueAt = sim.Now.AddSeconds(sim.Next(5)) });
                    }

                    return Task.CompletedTask;
                });
            Context = context.Object;
        }

        public TaskOrchestrationContext Context { get; }

        public List<(string Action, SlotResult? Result, Work? Message)> Added { get; } = [];

        bool IsReplaying => cursor <= trigger;

        object Typed(Type result, string method, params object?[] arguments) =>
            GetType().GetMethod(method, BindingFlags.NonPublic | BindingFlags.Instance)!.MakeGenericMethod(result).Invoke(this, arguments)!;

        async Task<T> CallActivity<T>(TaskName name, object? input, TaskOptions? options)
        {
            for (int attempt = 1; ; attempt++)
            {
                int slot = cursor;
                var result = await Take($"activity {name.Name}", s => new ActivityWork(instance.Id, instance.Incarnation, s, name.Name, sim.Serialize(input)) { DueAt = sim.Now });
                if (result.Failure is null)
                {
                    return Read<T>(result.Json);
                }

                if (options?.Retry?.Handler is { } handler && await handler(new Microsoft.DurableTask.RetryContext(Context, attempt, result.Failure, TimeSpan.Zero, CancellationToken.None)))
                {
                    continue;
                }

                throw new TaskFailedException(name.Name, slot, result.Failure);
            }
        }

        async Task<T> CallEntity<T>(EntityInstanceId id, string operation, object? input)
        {
            var result = await Take($"call {id} {operation}", s => new CallWork(id, operation, sim.Serialize(input), instance.Id, instance.Incarnation, s) { DueAt = sim.Now });
            return result.Failure is { } thrown ? throw new EntityOperationFailedException(id, operation, thrown) : Read<T>(result.Json);
        }

        static T Read<T>(string? json) => json is null ? default! : JsonSerializer.Deserialize<T>(json, Serializer)!;

        Task<SlotResult> Take(string action, Func<int, Work> message, bool sent = false)
        {
            int slot = cursor++;
            if (slot < instance.History.Count)
            {
                var (recorded, result) = instance.History[slot];
                if (recorded != action)
                {
                    throw new InvalidOperationException($"Orchestration {instance.Id} is not deterministic: history slot {slot} was '{recorded}', the replay did '{action}'.");
                }

                if (result is null)
                {
                    return Never;
                }

                if (result.At.UtcDateTime > now)
                {
                    now = result.At.UtcDateTime;
                }

                return Task.FromResult(result);
            }

            var done = sent ? new SlotResult(null, null, sim.Now) : null;
            sim.Count(action.Split(' ')[0] switch { "timer" => "durable timers", "call" => "entity calls", "signal" => "orchestration signals", _ => "activity calls" });
            Added.Add((action, done, message(slot)));
            return done is null ? Never : Task.FromResult(done);
        }
    }
}
