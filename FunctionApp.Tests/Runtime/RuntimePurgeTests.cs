using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Llm;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Tests.Runtime;

/// <summary>What a deletion leaves in the task hub, on the Azure Storage backend: nothing that names the session.</summary>
[Collection(DurableRuntimeCollection.Name)]
public class RuntimePurgeTests(DurableRuntimeFixture runtime)
{
    static readonly TimeSpan Patient = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_deletion_purges_every_finished_instance_its_prefix_finds_leaves_running_ones_and_other_sessions_and_is_swept_itself()
    {
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, "hi");
        await using var host = await runtime.StartAsync();
        using var patience = new CancellationTokenSource(Patient);
        const string key = "0123456789abcdef0123456789abcdef:s1";
        string orphan = SessionIds.TurnInstanceId(key, "t1", "0.9");
        string running = SessionIds.TurnInstanceId(key, "t2", "0.1");
        string otherSession = SessionIds.TurnInstanceId("0123456789abcdef0123456789abcdef:s10", "t1", "0.1");
        // Stand-ins under the ids a session's turns get: one finished that the session never learned of, one still
        // running (it waits on a timer), and another session's, whose id extends this one's.
        var nothing = new InstanceSweep(PurgeWork.None, RetrySchedule.Default);
        var waits = new InstanceSweep(new PurgeWork(["missing"], TimeSpan.FromMinutes(10)), RetrySchedule.Default);
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(SweepInstance), nothing, new StartOrchestrationOptions(orphan));
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(SweepInstance), waits, new StartOrchestrationOptions(running));
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(SweepInstance), nothing, new StartOrchestrationOptions(otherSession));
        await host.Client.WaitForInstanceCompletionAsync(orphan, cancellation: patience.Token);
        await host.Client.WaitForInstanceCompletionAsync(otherSession, cancellation: patience.Token);

        var deletion = new ArchiveDeletion(key, RetrySchedule.Default)
        {
            Purge = PurgeWork.ForDeleted(key, SessionPurge.None),
            Erase = new Erasure(DateTimeOffset.UtcNow, 0),
            SweepAgainAfter = TimeSpan.FromSeconds(1),
        };
        await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DeleteArchive), deletion, new StartOrchestrationOptions("delete-1"));
        string sweep = SweepInstance.InstanceIdFor("delete-1");
        while (await host.Client.GetInstanceAsync("delete-1", cancellation: patience.Token) is not null)
        {
            await Task.Delay(200, patience.Token);
        }

        var swept = await host.Client.WaitForInstanceCompletionAsync(sweep, getInputsAndOutputs: true, patience.Token);

        Assert.Null(await host.Client.GetInstanceAsync(orphan));
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await host.Client.GetInstanceAsync(running))!.RuntimeStatus);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.Client.GetInstanceAsync(otherSession))!.RuntimeStatus);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, swept.RuntimeStatus);
        Assert.Equal(["delete-1"], swept.ReadInputAs<InstanceSweep>()!.Purge.InstanceIds);
        Assert.DoesNotContain("s1", swept.SerializedInput, StringComparison.Ordinal);
        await host.Client.TerminateInstanceAsync(running);
    }

    [Fact]
    public async Task A_forgotten_sessions_empty_entity_row_is_purged_once_quiet_and_a_session_holding_state_is_not()
    {
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, "hi");
        await using var host = await runtime.StartAsync();
        using var patience = new CancellationTokenSource(Patient);
        const string empty = "0123456789abcdef0123456789abcdef:forgotten", held = "0123456789abcdef0123456789abcdef:held";
        // A retention check on a session with nothing stored leaves its entity with no state: the row stays behind.
        await host.Client.Entities.SignalEntityAsync(SessionEntityIds.For(empty), nameof(ChatSession.RetentionCheck));
        await host.Client.Entities.SignalEntityAsync(SessionEntityIds.For(held), nameof(ChatSession.Delete), new SessionDeletion(DateTimeOffset.UtcNow));
        while (await host.Client.GetInstanceAsync(SessionEntityIds.For(empty).ToString(), cancellation: patience.Token) is null
            || await host.Client.Entities.GetEntityAsync<ChatSessionState>(SessionEntityIds.For(held), cancellation: patience.Token) is null)
        {
            await Task.Delay(100, patience.Token);
        }

        var store = new FunctionsChat.Tests.Http.InMemoryArchive();
        bool justTouched = await new ArchiveActivities(store, store).PurgeEmptySession(empty, host.Client, patience.Token);
        var later = new ArchiveActivities(store, store, new Later(ArchiveActivities.QuietBeforePurge + TimeSpan.FromMinutes(1)));
        bool holding = await later.PurgeEmptySession(held, host.Client, patience.Token);
        bool quiet = await later.PurgeEmptySession(empty, host.Client, patience.Token);

        Assert.Equal((false, false, true), (justTouched, holding, quiet));
        Assert.Null(await host.Client.GetInstanceAsync(SessionEntityIds.For(empty).ToString()));
        Assert.NotNull(await host.Client.Entities.GetEntityAsync<ChatSessionState>(SessionEntityIds.For(held)));
    }

    /// <summary>The clock some time from now.</summary>
    sealed class Later(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + by;
    }
}
