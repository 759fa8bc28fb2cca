using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Tests.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Entities;
using Moq;

namespace FunctionsChat.Tests.Turns;

public class ArchiveTurnsTests
{
    static readonly EntityInstanceId Session = new("ChatSession", "session123");
    static readonly TranscriptTurn Turn = new("t1", 1, TurnStatus.Completed, "m", "h", TurnHarness.Now, TurnHarness.Now) { Answer = "a" };
    static readonly ArchiveInput Input = new("session123", "1-42", 1, [Turn], RetrySchedule.Default);

    static TurnHarness Harness()
    {
        var turn = new TurnHarness();
        turn.Context.Setup(c => c.GetInput<ArchiveInput>()).Returns(Input);
        return turn;
    }

    [Fact]
    public async Task The_batch_is_written_by_a_retried_activity_and_then_confirmed_to_the_session()
    {
        var turn = Harness();
        turn.Context.Setup(c => c.CallActivityAsync<int>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>())).ReturnsAsync(1);

        await ArchiveTurns.Run(turn.Context.Object);

        turn.Context.Verify(c => c.CallActivityAsync<int>(
            It.Is<TaskName>(n => n.Name == "WriteArchive"),
            It.Is<ArchiveWork>(w => w.SessionKey == "session123" && w.Turns.Single() == Turn),
            It.Is<TaskOptions>(o => o.Retry!.Handler != null)), Times.Once);
        turn.Entities.Verify(e => e.SignalEntityAsync(Session, "ConfirmArchived", new ArchiveReport("1-42", 1), null), Times.Once);
    }

    [Fact]
    public async Task Once_confirmed_the_batch_orchestrations_are_purged_and_any_still_running_once_more_after_the_linger()
    {
        var turn = Harness();
        var purge = new PurgeWork(["chatturn:session123:t1:0.1", "chatarchive:session123:0-7"], TimeSpan.FromMinutes(11));
        turn.Context.Setup(c => c.GetInput<ArchiveInput>()).Returns(Input with { Purge = purge });
        turn.Context.Setup(c => c.CallActivityAsync<int>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>())).ReturnsAsync(1);
        var purged = new List<PurgeWork>();
        turn.Context.Setup(c => c.CallActivityAsync<string[]>(It.Is<TaskName>(n => n.Name == "PurgeInstances"), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Callback<TaskName, object?, TaskOptions?>((_, work, _) => purged.Add((PurgeWork)work!))
            .ReturnsAsync(() => purged.Count == 1 ? ["chatarchive:session123:0-7"] : []);

        await ArchiveTurns.Run(turn.Context.Object);

        turn.Entities.Verify(e => e.SignalEntityAsync(Session, "ConfirmArchived", new ArchiveReport("1-42", 1), null), Times.Once);
        Assert.Equal(2, purged.Count);
        Assert.Equal(purge.InstanceIds, purged[0].InstanceIds);
        Assert.Equal(["chatarchive:session123:0-7"], purged[1].InstanceIds);
        Assert.Equal([TurnHarness.Now.AddMinutes(11)], turn.Timers);
    }

    [Fact]
    public async Task The_purge_activity_purges_only_finished_instances_named_or_found_by_prefix_and_reports_the_rest()
    {
        // The Azure Storage backend purges an instance whatever its status: the activity looks before it purges.
        var client = new Mock<Microsoft.DurableTask.Client.DurableTaskClient>(MockBehavior.Strict, "test");
        var statuses = new Dictionary<string, OrchestrationRuntimeStatus>
        {
            ["done"] = OrchestrationRuntimeStatus.Completed,
            ["running"] = OrchestrationRuntimeStatus.Running,
            ["refused"] = OrchestrationRuntimeStatus.Failed,
            ["chatturn:k:t1:0.1"] = OrchestrationRuntimeStatus.Completed,
            ["chatturn:k:t1:0.7"] = OrchestrationRuntimeStatus.Terminated,
            ["chatturn:k:t1:0.9"] = OrchestrationRuntimeStatus.Running,
            ["chatturn:k:t1:0.12"] = OrchestrationRuntimeStatus.Completed,
        };
        client.Setup(c => c.GetInstanceAsync(It.IsAny<string>(), false, It.IsAny<CancellationToken>()))
            .ReturnsAsync((string id, bool _, CancellationToken _) => statuses.TryGetValue(id, out var status) ? new OrchestrationMetadata("ChatTurn", id) { RuntimeStatus = status } : null);
        client.Setup(c => c.GetAllInstancesAsync(It.Is<OrchestrationQuery>(q => q.InstanceIdPrefix == "chatturn:k:t1:" && !q.FetchInputsAndOutputs)))
            .Returns(Pageable.Create((string? _, int? _, CancellationToken _) => Task.FromResult(new Page<OrchestrationMetadata>(
                [.. statuses.Where(s => s.Key.StartsWith("chatturn:k:t1:", StringComparison.Ordinal)).Select(s => new OrchestrationMetadata("ChatTurn", s.Key) { RuntimeStatus = s.Value })], null))));
        var purged = new List<string>();
        client.Setup(c => c.PurgeInstanceAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback<string, CancellationToken>((id, _) => purged.Add(id))
            .Returns((string id, CancellationToken _) => id == "refused" ? Task.FromException<PurgeResult>(new InvalidOperationException("refused")) : Task.FromResult(new PurgeResult(1)));

        var store = new InMemoryArchive();
        var work = new PurgeWork(["done", "running", "refused", "missing", "chatturn:k:t1:0.1"], TimeSpan.Zero) { Prefixes = ["chatturn:k:t1:"], RunsThrough = "0.9" };
        var left = await new ArchiveActivities(store, store).PurgeInstances(work, client.Object, CancellationToken.None);

        Assert.Equal(["done", "refused", "chatturn:k:t1:0.1", "chatturn:k:t1:0.7"], purged);
        Assert.Equal(["running", "refused", "missing", "chatturn:k:t1:0.9"], left);
        // A run after the batch's newest (the working set's) is neither purged nor waited for.
        Assert.DoesNotContain("chatturn:k:t1:0.12", purged);
    }

    [Fact]
    public void A_deleted_life_purges_the_orchestrations_of_its_turns_and_archive_batches_by_their_exact_instance_ids_and_the_sessions_prefixes()
    {
        var limits = SessionLimits.Default;
        var state = ChatSessionState.Empty;
        foreach (var id in new[] { "t1", "t2" })
        {
            state = SessionTransitions.Enqueue(state, new TurnRequest("s1", id, "message " + id, TurnHarness.Now), TurnHarness.Now, limits).State;
        }

        state = SessionTransitions.Complete(state, new TurnCompletion("t1", "a", "m", new TokenUsage(1, 1), TurnHarness.Now) { Run = "0.1" }, TurnHarness.Now, limits).State with { LastArchiveBatchId = "0-9" };

        var deleted = SessionTransitions.Delete(state, new SessionDeletion(TurnHarness.Now.AddSeconds(1)), TurnHarness.Now.AddSeconds(1), limits);
        var work = PurgeWork.ForDeleted("anonymous/s1", deleted.Purge);

        Assert.True(deleted.DeleteArchive);
        Assert.Equal(["chatturn:anonymous/s1:t1:0.1", "chatturn:anonymous/s1:t2:0.2", "chatarchive:anonymous/s1:0-9"], work.InstanceIds);
        Assert.Equal(2 * (limits.TurnTimeout + TimeSpan.FromMinutes(1)), work.Linger);
        Assert.Equal(["chatturn:anonymous/s1:", "chatarchive:anonymous/s1:"], work.Prefixes);
        Assert.Null(work.RunsThrough);
        var batch = PurgeWork.For("anonymous/s1", deleted.Purge);
        Assert.Equal(["chatturn:anonymous/s1:"], batch.Prefixes);
        Assert.Equal("0.2", batch.RunsThrough);
    }

    [Fact]
    public async Task A_write_that_fails_for_good_is_reported_so_the_turns_stay_in_the_session()
    {
        var turn = Harness();
        turn.Context.Setup(c => c.CallActivityAsync<int>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ThrowsAsync(TurnHarness.Failure("Azure.RequestFailedException: 503"));

        await ArchiveTurns.Run(turn.Context.Object);

        turn.Entities.Verify(e => e.SignalEntityAsync(Session, "ArchiveFailed", new ArchiveReport("1-42", 1), null), Times.Once);
        turn.Entities.Verify(e => e.SignalEntityAsync(Session, "ConfirmArchived", It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()), Times.Never);
    }

    [Fact]
    public async Task Storage_failures_of_any_kind_are_retried_with_back_off_until_the_attempts_are_spent()
    {
        var turn = Harness();
        var options = FunctionsChat.Turns.ModelRetry.AnyFailure(RetrySchedule.Default);

        Assert.True(await turn.Retry(options, 1, new TaskFailureDetails("Azure.RequestFailedException", "500", null, null, null)));
        Assert.False(await turn.Retry(options, 5, new TaskFailureDetails("Azure.RequestFailedException", "500", null, null, null)));
        Assert.Equal([TurnHarness.Now.AddSeconds(1)], turn.Timers);
    }

    [Fact]
    public async Task The_write_activity_writes_the_turns_to_the_archive_and_drops_their_streams_but_no_other()
    {
        var archive = new InMemoryArchive();
        string attempt = StreamKeys.NewAttempt(Turn.AcceptedAt);
        await archive.AppendAsync("session123", StreamKeys.Of(Turn.AcceptedAt, Turn.TurnId), new StreamChunk(attempt, 0, "streamed", true), CancellationToken.None);
        await archive.AppendAsync("session123", StreamKeys.Of(Turn.AcceptedAt, "still-running"), new StreamChunk(attempt, 0, "streaming", false), CancellationToken.None);

        int written = await new ArchiveActivities(archive, archive).WriteArchive(new ArchiveWork("session123", [Turn]), CancellationToken.None);

        Assert.Equal(1, written);
        Assert.Same(Turn, archive.Sessions["session123"][1]);
        Assert.Empty(await archive.ReadAsync("session123", StreamKeys.Of(Turn.AcceptedAt, Turn.TurnId), null, CancellationToken.None));
        Assert.Single(await archive.ReadAsync("session123", StreamKeys.Of(Turn.AcceptedAt, "still-running"), null, CancellationToken.None));
    }
}
