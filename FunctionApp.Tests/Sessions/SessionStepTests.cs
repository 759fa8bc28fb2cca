using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Turns;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Sessions;

public class SessionStepTests
{
    static readonly EntityInstanceId Session = new("ChatSession", "session123");

    static Mock<TaskEntityContext> Context()
    {
        var context = new Mock<TaskEntityContext>(MockBehavior.Strict);
        context.SetupGet(c => c.Id).Returns(Session);
        context.Setup(c => c.ScheduleNewOrchestration(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>())).Returns("instance");
        context.Setup(c => c.SignalEntity(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()));
        return context;
    }

    [Fact]
    public void A_started_turn_schedules_ChatTurn_under_the_instance_id_derived_from_session_and_turn()
    {
        var context = Context();
        var state = Enqueued("t0").Completed("t0", "earlier answer");
        var transition = SessionTransitions.Enqueue(state, Request("t1", "Write a poem"), T0, Limits);

        SessionStep.Carry(context.Object, transition, RetrySchedule.Default, NullLogger.Instance);

        context.Verify(c => c.ScheduleNewOrchestration(
            It.Is<TaskName>(n => n.Name == "ChatTurn"),
            It.Is<ChatTurnInput>(i => i.SessionKey == "session123" && i.SessionId == "session123" && i.TurnId == "t1" && i.Message == "Write a poem"
                && i.History.SequenceEqual(new ConversationMessage[] { new("user", "message t0"), new("assistant", "earlier answer") })
                && i.Retry == RetrySchedule.Default),
            It.Is<StartOrchestrationOptions>(o => o.InstanceId == "chatturn:session123:t1:0.2")), Times.Once);
    }

    [Fact]
    public void A_started_turn_schedules_the_Expire_self_signal_at_its_deadline()
    {
        var context = Context();
        var transition = SessionTransitions.Enqueue(ChatSessionState.Empty, Request("t1"), T0, Limits);

        SessionStep.Carry(context.Object, transition, RetrySchedule.Default, NullLogger.Instance);

        Assert.Equal(("chatsession", "session123"), (Session.Name, Session.Key));
        context.Verify(c => c.SignalEntity(
            Session,
            "Expire",
            It.Is<TurnExpiry>(e => e.TurnId == "t1"),
            It.Is<SignalEntityOptions>(o => o.SignalTime == T0 + Limits.TurnTimeout)), Times.Once);
    }

    [Fact]
    public void A_transition_without_a_start_does_nothing_through_the_context()
    {
        var context = Context();
        var transition = SessionTransitions.Complete(Enqueued("t1"), Completion("t9"), T0, Limits);

        var stored = SessionStep.Carry(context.Object, transition, RetrySchedule.Default, NullLogger.Instance);

        Assert.Same(transition.State, stored);
        context.Verify(c => c.ScheduleNewOrchestration(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>()), Times.Never);
        context.Verify(c => c.SignalEntity(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()), Times.Never);
    }

    [Fact]
    public void A_forgotten_tombstone_stores_no_state_so_the_entity_is_deleted()
    {
        var deleted = SessionTransitions.Delete(Enqueued("t1"), null, T0, Limits).State with { ExpiryCheckAt = null };
        var forgotten = SessionTransitions.RetentionCheck(deleted, new RetentionDue(deleted.RetentionCheckAt!.Value), T0 + Limits.TombstoneTime, Limits);
        var context = Context();
        var stored = SessionStep.Carry(context.Object, forgotten, RetrySchedule.Default, NullLogger.Instance);

        Assert.NotNull(deleted.DeletedAt);
        Assert.Null(stored);
        // The last sweep also purges the entity's row, which stays in the task hub with no state.
        context.Verify(c => c.ScheduleNewOrchestration(It.Is<TaskName>(n => n.Name == "DeleteArchive"), It.Is<ArchiveDeletion>(d => d.Forget && d.SessionKey == "session123"), null), Times.Once);
    }

    [Fact]
    public void An_archive_decision_schedules_ArchiveTurns_with_the_batch_under_its_own_instance_id()
    {
        var context = Context();
        var turn = new TranscriptTurn("t1", 1, TurnStatus.Completed, "m", "h", T0, T0) { Answer = "a" };
        var transition = new Transition(Enqueued("t9"), TransitionNote.Applied) { Archive = new ArchiveStart("1-42", 1, [turn]) };

        SessionStep.Carry(context.Object, transition, RetrySchedule.Default, NullLogger.Instance);

        context.Verify(c => c.ScheduleNewOrchestration(
            It.Is<TaskName>(n => n.Name == "ArchiveTurns"),
            It.Is<ArchiveInput>(i => i.SessionKey == "session123" && i.BatchId == "1-42" && i.ThroughSequence == 1 && i.Turns.Single() == turn),
            It.Is<StartOrchestrationOptions>(o => o.InstanceId == "chatarchive:session123:1-42")), Times.Once);
    }

    [Fact]
    public void Deleting_a_session_with_an_archive_schedules_DeleteArchive()
    {
        var context = Context();

        var stored = SessionStep.Carry(context.Object, new Transition(ChatSessionState.Empty, TransitionNote.Deleted) { DeleteArchive = true }, RetrySchedule.Default, NullLogger.Instance);

        Assert.Null(stored);
        context.Verify(c => c.ScheduleNewOrchestration(
            It.Is<TaskName>(n => n.Name == "DeleteArchive"),
            It.Is<ArchiveDeletion>(d => d.SessionKey == "session123"),
            null), Times.Once);
    }

    [Fact]
    public void An_accepted_turn_schedules_the_RetentionCheck_self_signal_at_the_idle_deadline()
    {
        var context = Context();

        SessionStep.Carry(context.Object, SessionTransitions.Enqueue(ChatSessionState.Empty, Request("t1"), T0, Limits), RetrySchedule.Default, NullLogger.Instance);

        context.Verify(c => c.SignalEntity(
            Session,
            "RetentionCheck",
            new RetentionDue(T0 + Limits.IdleRetention),
            It.Is<SignalEntityOptions>(o => o.SignalTime == T0 + Limits.IdleRetention)), Times.Once);
    }
}
