using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Tests.Http;
using Microsoft.DurableTask;
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
    public async Task The_write_activity_writes_the_turns_to_the_archive()
    {
        var archive = new InMemoryArchive();

        int written = await new ArchiveActivities(archive).WriteArchive(new ArchiveWork("session123", [Turn]), CancellationToken.None);

        Assert.Equal(1, written);
        Assert.Same(Turn, archive.Sessions["session123"][1]);
    }
}
