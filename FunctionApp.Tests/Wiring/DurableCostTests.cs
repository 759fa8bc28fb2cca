using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Http;
using FunctionsChat.Tests.Sessions;
using FunctionsChat.Tests.Turns;
using FunctionsChat.Turns;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace FunctionsChat.Tests.Wiring;

/// <summary>
/// Counts every durable action one turn costs, from the HTTP send through the entity, the orchestration and the
/// activity and back, so a change that adds a round trip fails here. README states the same numbers.
/// </summary>
public class DurableCostTests
{
    sealed class Ledger
    {
        public Dictionary<string, int> Actions { get; } = [];

        public void Add(string action) => Actions[action] = Actions.GetValueOrDefault(action) + 1;

        /// <summary>Carries out an entity transition and books what it scheduled and signalled.</summary>
        public ChatSessionState? Carry(Transition transition)
        {
            var context = new RecordingEntityContext();
            var state = SessionStep.Carry(context.Object, transition, RetrySchedule.Default, NullLogger.Instance);
            context.Scheduled.ForEach(s => Add($"entity starts {s.Name}"));
            context.Signals.ForEach(s => Add($"entity signals {s.Operation}{(s.Options?.SignalTime is null ? "" : " later")}"));
            return state;
        }
    }

    [Fact]
    public async Task One_turn_costs_one_client_signal_one_orchestration_one_activity_call_and_three_entity_signals()
    {
        var ledger = new Ledger();
        var limits = SessionLimits.Default;

        var http = new HttpHarness();
        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "t1"), http.Client.Object, "session123");
        foreach (var signal in http.Signals)
        {
            ledger.Add($"client signals {signal.Operation}");
        }

        var request = (TurnRequest)http.Signals.Single().Input!;
        var enqueued = SessionTransitions.Enqueue(ChatSessionState.Empty, request, HttpHarness.Start, limits);
        var state = ledger.Carry(enqueued)!;

        var turn = new TurnHarness();
        turn.Context.Setup(c => c.CallActivityAsync<ModelReply>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((name, _, _) => ledger.Add($"orchestration calls {name.Name}"))
            .ReturnsAsync(new ModelReply("A poem.", "m", new TokenUsage(1, 1), "stop"));
        TurnCompletion? completion = null;
        turn.Entities.Setup(e => e.SignalEntityAsync(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()))
            .Callback<EntityInstanceId, string, object?, SignalEntityOptions?>((_, op, input, _) => { ledger.Add($"orchestration signals {op}"); completion = (TurnCompletion)input!; })
            .Returns(Task.CompletedTask);
        await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);
        ledger.Add(turn.Timers.Count == 0 ? "no timer" : "timer");

        ledger.Carry(SessionTransitions.Complete(state, completion!, HttpHarness.Start, limits));

        Assert.Equal(
            new Dictionary<string, int>
            {
                ["client signals Enqueue"] = 1,
                ["entity starts ChatTurn"] = 1,
                ["entity signals Expire later"] = 1,
                ["entity signals RetentionCheck later"] = 1,
                ["orchestration calls GenerateReply"] = 1,
                ["orchestration signals Complete"] = 1,
                ["no timer"] = 1,
            },
            ledger.Actions);
    }

    [Fact]
    public void Archiving_adds_one_orchestration_per_thirteen_turns_with_the_default_bounds()
    {
        var limits = SessionLimits.Default;
        var state = ChatSessionState.Empty;
        int archives = 0;
        for (int i = 1; i <= 100; i++)
        {
            state = SessionTransitions.Enqueue(state, new TurnRequest("s", $"t{i}", $"q{i}", HttpHarness.Start), HttpHarness.Start, limits).State;
            var done = SessionTransitions.Complete(state, new TurnCompletion($"t{i}", $"a{i}", "m", new TokenUsage(1, 1), HttpHarness.Start), HttpHarness.Start, limits);
            state = done.State;
            if (done.Archive is { } archive)
            {
                archives++;
                state = SessionTransitions.ConfirmArchived(state, new ArchiveReport(archive.BatchId, archive.ThroughSequence), HttpHarness.Start, limits).State;
            }
        }

        Assert.Equal(6, archives); // at turns 25, 38, 51, 64, 77 and 90: each costs 1 orchestration, 1 activity call, 1 signal
        Assert.InRange(state.Turns.Count, limits.MaxWorkingTurns / 2, limits.MaxWorkingTurns);
    }
}
