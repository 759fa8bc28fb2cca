using System.Reflection;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Http;
using FunctionsChat.Tests.Sessions;
using FunctionsChat.Tests.Turns;
using FunctionsChat.Turns;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Wiring;

/// <summary>
/// Names cross the Durable boundary as strings. These tests drive every path that signals, schedules or calls,
/// record the names the runtime would see, and find for each the operation or function that must answer it.
/// </summary>
public class WiringTests
{
    static IEnumerable<(MethodInfo Method, FunctionAttribute Function)> Functions() => AppFunctions.All();

    static MethodInfo FunctionWithTrigger<TTrigger>(string name) where TTrigger : Attribute
    {
        var matches = Functions().Where(f => f.Function.Name == name).ToList();
        var function = Assert.Single(matches);
        Assert.Contains(function.Method.GetParameters(), p => p.GetCustomAttribute<TTrigger>() is not null);
        return function.Method;
    }

    static void AssertEntityOperation(string operation)
    {
        // The SDK finds an operation by a case-insensitive method name; it must be one public method, taking at
        // most an input and the entity context.
        var methods = typeof(ChatSession).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => string.Equals(m.Name, operation, StringComparison.OrdinalIgnoreCase)).ToList();
        var method = Assert.Single(methods);
        Assert.True(method.GetParameters().Count(p => p.ParameterType != typeof(TaskEntityContext)) <= 1, $"{operation} takes more than one input");
    }

    [Fact]
    public async Task Every_operation_signalled_to_the_session_exists_on_the_entity()
    {
        var operations = new HashSet<string>();

        var entityContext = new RecordingEntityContext();
        SessionStep.Carry(entityContext.Object, SessionTransitions.Enqueue(ChatSessionState.Empty, Request("t1"), T0, Limits), RetrySchedule.Default, NullLogger.Instance);
        operations.UnionWith(entityContext.Signals.Select(s => s.Operation));

        foreach (bool succeeds in new[] { true, false })
        {
            var turn = new TurnHarness();
            var call = turn.Context.Setup(c => c.CallActivityAsync<ModelReply>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()));
            if (succeeds)
            {
                call.ReturnsAsync(new ModelReply("a", "m", new TokenUsage(1, 1), null));
            }
            else
            {
                call.ThrowsAsync(TurnHarness.Failure("[llm.unauthorized] no"));
            }

            await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);
            operations.UnionWith(turn.Calls.Select(c => c.Operation));
        }

        foreach (bool writes in new[] { true, false })
        {
            var archive = new TurnHarness();
            archive.Context.Setup(c => c.GetInput<FunctionsChat.Archive.ArchiveInput>()).Returns(new FunctionsChat.Archive.ArchiveInput("session123", "b", 1, [], RetrySchedule.Default));
            var write = archive.Context.Setup(c => c.CallActivityAsync<int>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()));
            if (writes)
            {
                write.ReturnsAsync(0);
            }
            else
            {
                write.ThrowsAsync(TurnHarness.Failure("storage down"));
            }

            archive.Entities.Setup(e => e.SignalEntityAsync(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()))
                .Callback<EntityInstanceId, string, object?, SignalEntityOptions?>((_, op, _, _) => operations.Add(op))
                .Returns(Task.CompletedTask);
            await FunctionsChat.Archive.ArchiveTurns.Run(archive.Context.Object);
        }

        var http = new HttpHarness { State = HttpHarness.BusySession() };
        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "hi"), http.Client.Object, "session123");
        await http.Turns.CancelTurn(HttpHarness.Request("DELETE", "/Chat/session123/turns/t3"), http.Client.Object, "session123", "t3");
        await http.Sessions.DeleteSession(HttpHarness.Request("DELETE", "/Chat/session123"), http.Client.Object, "session123");
        operations.UnionWith(http.Signals.Select(s => s.Operation));

        Assert.Equal(["ArchiveFailed", "Cancel", "Complete", "ConfirmArchived", "Delete", "Enqueue", "Expire", "Fail", "RetentionCheck"], operations.Order());
        Assert.All(operations, AssertEntityOperation);
    }

    [Fact]
    public void Every_entity_operation_is_unambiguous_for_the_dispatcher()
    {
        var declared = typeof(ChatSession).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Select(m => m.Name);
        Assert.All(declared, AssertEntityOperation);
    }

    [Fact]
    public void The_session_entity_is_dispatched_by_a_function_of_its_own_name_with_an_entity_trigger()
    {
        var dispatch = FunctionWithTrigger<EntityTriggerAttribute>("ChatSession");
        Assert.Equal(typeof(TaskEntityDispatcher), Assert.Single(dispatch.GetParameters()).ParameterType);
        Assert.Equal(SessionEntityIds.For("k"), new EntityInstanceId("ChatSession", "k"));
    }

    [Fact]
    public async Task The_orchestration_the_entity_schedules_and_the_activity_it_calls_have_functions_with_matching_triggers()
    {
        var entityContext = new RecordingEntityContext();
        SessionStep.Carry(entityContext.Object, SessionTransitions.Enqueue(ChatSessionState.Empty, Request("t1"), T0, Limits), RetrySchedule.Default, NullLogger.Instance);

        var called = new List<string>();
        var turn = new TurnHarness();
        turn.Context.Setup(c => c.CallActivityAsync<ModelReply>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((name, _, _) => called.Add(name.Name))
            .ReturnsAsync(new ModelReply("a", "m", new TokenUsage(1, 1), null));
        await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        var archiveTurn = new TranscriptTurn("t0", 1, TurnStatus.Completed, "m", "h", T0, T0);
        SessionStep.Carry(entityContext.Object, new Transition(ChatSessionState.Empty, TransitionNote.Deleted) { Archive = new ArchiveStart("b", 1, [archiveTurn]), DeleteArchive = true }, RetrySchedule.Default, NullLogger.Instance);

        var archive = new TurnHarness();
        archive.Context.Setup(c => c.GetInput<FunctionsChat.Archive.ArchiveInput>()).Returns(new FunctionsChat.Archive.ArchiveInput("session123", "b", 1, [], RetrySchedule.Default));
        archive.Context.Setup(c => c.GetInput<FunctionsChat.Archive.ArchiveDeletion>()).Returns(new FunctionsChat.Archive.ArchiveDeletion("session123", RetrySchedule.Default) { Forget = true });
        archive.Context.Setup(c => c.CallActivityAsync<bool>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((name, input, _) => called.Add($"{name.Name}({input})"))
            .ReturnsAsync(true);
        archive.Context.Setup(c => c.CallActivityAsync<int>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((name, _, _) => called.Add(name.Name))
            .ReturnsAsync(0);
        archive.Context.SetupGet(c => c.InstanceId).Returns("delete-1");
        archive.Entities.Setup(e => e.CallEntityAsync<bool>(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CallEntityOptions?>()))
            .Callback<EntityInstanceId, string, object?, CallEntityOptions?>((id, op, _, _) => called.Add($"{id.Name}.{op}"))
            .ReturnsAsync(true);
        archive.Context.Setup(c => c.CallActivityAsync<string>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((name, _, _) => called.Add(name.Name))
            .ReturnsAsync("chatsweep:delete-1");
        await FunctionsChat.Archive.ArchiveTurns.Run(archive.Context.Object);
        await FunctionsChat.Archive.DeleteArchive.Run(archive.Context.Object);

        var scheduled = entityContext.Scheduled.Select(s => s.Name).ToList();
        Assert.Equal(["ChatTurn", "ArchiveTurns", "DeleteArchive"], scheduled);
        Assert.Equal(["GenerateReply", "WriteArchive", "chatsession.Erasable", "DeleteArchivedTurns", "DeleteArchivedTurns", "PurgeEmptySession(session123)", "StartSweep"], called);
        Assert.Equal(typeof(string), FunctionWithTrigger<ActivityTriggerAttribute>("PurgeEmptySession").GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null).ParameterType);
        FunctionWithTrigger<OrchestrationTriggerAttribute>("ArchiveTurns");
        FunctionWithTrigger<OrchestrationTriggerAttribute>("DeleteArchive");
        // The sweep that StartSweep starts by name, with the input it gives it.
        FunctionWithTrigger<OrchestrationTriggerAttribute>(nameof(FunctionsChat.Archive.SweepInstance));
        Assert.Equal(typeof(FunctionsChat.Archive.InstanceSweep), FunctionWithTrigger<ActivityTriggerAttribute>("StartSweep").GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null).ParameterType);
        Assert.Equal(typeof(FunctionsChat.Archive.ArchiveWork), FunctionWithTrigger<ActivityTriggerAttribute>("WriteArchive").GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null).ParameterType);
        Assert.Equal(typeof(FunctionsChat.Archive.ArchiveWork), FunctionWithTrigger<ActivityTriggerAttribute>("DeleteArchivedTurns").GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null).ParameterType);
        var orchestrator = FunctionWithTrigger<OrchestrationTriggerAttribute>(scheduled[0]);
        Assert.Equal(typeof(TaskOrchestrationContext), Assert.Single(orchestrator.GetParameters()).ParameterType);
        var activity = FunctionWithTrigger<ActivityTriggerAttribute>(called[0]);
        Assert.Equal(typeof(ReplyRequest), activity.GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null).ParameterType);
    }

    [Fact]
    public void Every_http_function_has_its_route_method_and_function_level_key()
    {
        var triggers = AppFunctions.Http().Select(f => (f.Function.Name, f.Trigger)).ToList();
        var served = triggers.Where(t => !t.Name.StartsWith("MethodNotAllowed", StringComparison.Ordinal))
            .Select(t => (t.Trigger!.Route, Method: Assert.Single(t.Trigger.Methods!), t.Trigger.AuthLevel))
            .OrderBy(r => r.Route, StringComparer.Ordinal).ThenBy(r => r.Method)
            .ToList();

        // The page (the site's root and its files) holds no data: anyone may load it, and it asks the API with a key.
        Assert.Equal([("app/{file}", "get", AuthorizationLevel.Anonymous), ("{page:maxlength(0)?}", "get", AuthorizationLevel.Anonymous)], served.Where(s => !s.Route!.StartsWith("Chat", StringComparison.Ordinal)).ToList());
        served = served.Where(s => s.Route!.StartsWith("Chat", StringComparison.Ordinal)).ToList();

        Assert.Equal(
            [
                ("Chat", "get", AuthorizationLevel.Function),
                ("Chat/usage", "get", AuthorizationLevel.Function),
                ("Chat/{sessionId}", "delete", AuthorizationLevel.Function),
                ("Chat/{sessionId}/branch", "put", AuthorizationLevel.Function),
                ("Chat/{sessionId}/events", "get", AuthorizationLevel.Function),
                ("Chat/{sessionId}/fork", "post", AuthorizationLevel.Function),
                ("Chat/{sessionId}/getHistory", "get", AuthorizationLevel.Function),
                ("Chat/{sessionId}/message", "post", AuthorizationLevel.Function),
                ("Chat/{sessionId}/message/send", "post", AuthorizationLevel.Function),
                ("Chat/{sessionId}/turns/{turnId}", "delete", AuthorizationLevel.Function),
                ("Chat/{sessionId}/turns/{turnId}", "get", AuthorizationLevel.Function),
                ("Chat/{sessionId}/turns/{turnId}/edit", "post", AuthorizationLevel.Function),
                ("Chat/{sessionId}/turns/{turnId}/regenerate", "post", AuthorizationLevel.Function),
                ("Chat/{sessionId}/turns/{turnId}/stream", "get", AuthorizationLevel.Function),
            ],
            served);

        // Every other method on each of those routes reaches exactly one function, the route's 405; OPTIONS stays with CORS.
        string[] methods = ["delete", "get", "head", "patch", "post", "put"];
        // (Chat/usage is a literal under Chat/{sessionId}: its other methods are the session route's.)
        foreach (var route in served.Select(s => s.Route).Distinct().Where(r => r != "Chat/usage"))
        {
            var claimed = triggers.Where(t => t.Trigger!.Route == route).SelectMany(t => t.Trigger!.Methods!).Order().ToList();
            Assert.Equal(methods, claimed);
            Assert.Single(triggers, t => t.Trigger!.Route == route && t.Name.StartsWith("MethodNotAllowed", StringComparison.Ordinal) && t.Trigger.AuthLevel == AuthorizationLevel.Function);
        }
    }

    [Fact]
    public void Function_names_are_unique()
    {
        var names = Functions().Select(f => f.Function.Name).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }
}
