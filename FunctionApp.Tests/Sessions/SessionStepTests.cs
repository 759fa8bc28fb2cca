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
            It.Is<StartOrchestrationOptions>(o => o.InstanceId == "chatturn:session123:t1")), Times.Once);
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
        var transition = SessionTransitions.Enqueue(Enqueued("t1"), Request("t2"), T0, Limits);

        var stored = SessionStep.Carry(context.Object, transition, RetrySchedule.Default, NullLogger.Instance);

        Assert.Same(transition.State, stored);
        context.Verify(c => c.ScheduleNewOrchestration(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>()), Times.Never);
        context.Verify(c => c.SignalEntity(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()), Times.Never);
    }

    [Fact]
    public void An_emptied_session_stores_no_state_so_the_entity_is_deleted()
    {
        var stored = SessionStep.Carry(Context().Object, SessionTransitions.Delete(Enqueued("t1")), RetrySchedule.Default, NullLogger.Instance);

        Assert.Null(stored);
    }
}
