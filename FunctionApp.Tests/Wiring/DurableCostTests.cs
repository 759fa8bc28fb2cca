using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Http;
using FunctionsChat.Tests.Simulation;
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
/// activity and back, on the simulated runtime with faults off, so a change that adds a round trip fails here.
/// docs/conversations.md states the same numbers.
/// </summary>
public class DurableCostTests
{
    static DurableSimulation Quiet() => new(seed: 1, faults: Faults.None);

    static void Settle(DurableSimulation sim) => sim.RunUntil(() => sim.Pending.All(w => w is SignalWork { Delayed: true }));

    [Fact]
    public void One_turn_costs_one_orchestration_one_activity_call_one_entity_call_one_delayed_signal_and_the_activitys_own_report()
    {
        var sim = Quiet();

        _ = sim.Send("s1", "t1", "Write a poem");
        Settle(sim);

        Assert.Equal(
            new Dictionary<string, int>
            {
                // The send's Enqueue, and the model activity's report of the answer straight to the session.
                ["client signals"] = 2,
                ["entity Enqueue"] = 1,
                ["orchestration ChatTurn"] = 1,
                ["activity calls"] = 1,
                ["activity GenerateReply"] = 1,
                // The orchestration's call after the activity's report: the session answers it with its verdict.
                ["entity calls"] = 1,
                ["entity Complete"] = 2,
                ["delayed signals"] = 1, // the session's one Expire; retention is off by default
            },
            sim.Counts);
    }

    [Fact]
    public void A_transient_model_failure_adds_one_durable_timer_and_one_activity_call()
    {
        var sim = Quiet();
        sim.Faults = Faults.None with { ModelTransientFailure = 1 };

        _ = sim.Send("s1", "t1", "Write a poem");
        sim.RunUntil(() => sim.Counted("activity GenerateReply") == 1);
        sim.Faults = Faults.None;
        Settle(sim);

        Assert.Equal(1, sim.Counted("durable timers"));
        Assert.Equal(2, sim.Counted("activity GenerateReply"));
        Assert.Equal(2, sim.Counted("entity Complete"));
    }

    [Fact]
    public void Ten_turns_hold_one_delayed_signal_for_the_session_not_one_per_turn()
    {
        var sim = new DurableSimulation(seed: 1, new SessionOptions { IdleRetention = TimeSpan.FromDays(30) }, Faults.None);

        for (int i = 1; i <= 10; i++)
        {
            _ = sim.Send("s1", $"t{i}", $"message {i}");
            Settle(sim);
        }

        Assert.Equal(20, sim.Counted("entity Complete"));
        Assert.Equal(2, sim.Counted("delayed signals")); // one Expire and one RetentionCheck, armed once each
        Assert.Equal(2, sim.Pending.Count(w => w is SignalWork { Delayed: true }));
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
