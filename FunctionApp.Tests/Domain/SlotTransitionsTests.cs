using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Domain;

/// <summary>A session whose caller's running turns are limited: its turns start only while it holds one of the caller's slots.</summary>
public class SlotTransitionsTests
{
    static readonly SessionLimits Slotted = Limits with { CallerSlots = true };

    // The first ask: event 1 (the message queued), at the moment of the message.
    static readonly string A1 = $"1.{T0.UtcTicks}";

    static Transition Send(ChatSessionState state, string turnId) => SessionTransitions.Enqueue(state, Request(turnId, "message " + turnId), T0, Slotted);

    [Fact]
    public void A_message_to_an_idle_session_asks_for_a_slot_and_waits_queued_until_it_is_granted()
    {
        var asked = Send(ChatSessionState.Empty, "t1");

        Assert.Null(asked.Start);
        Assert.Equal(A1, asked.AskSlot);
        Assert.Equal(new CallerSlot(A1, Held: false), asked.State.Slot);
        Assert.Equal(["t1"], asked.State.Pending.Select(p => p.TurnId));
        // A second message does not ask again: the one ask is on its way.
        var second = Send(asked.State, "t2");
        Assert.Null(second.AskSlot);
        Assert.Null(second.Start);

        var granted = SessionTransitions.Granted(second.State, new SlotGrant(A1), T0.AddSeconds(1), Slotted);

        Assert.Equal("t1", granted.Start?.TurnId);
        Assert.Equal(new CallerSlot(A1, Held: true), granted.State.Slot);
        Assert.Equal(TransitionNote.Duplicate, SessionTransitions.Granted(granted.State, new SlotGrant(A1), T0.AddSeconds(1), Slotted).Note);
    }

    [Fact]
    public void The_session_keeps_its_slot_from_turn_to_turn_and_lets_it_go_when_it_has_none_to_run()
    {
        var held = SessionTransitions.Granted(Send(Send(ChatSessionState.Empty, "t1").State, "t2").State, new SlotGrant(A1), T0, Slotted).State;

        var first = SessionTransitions.Complete(held, Completion("t1"), T0.AddSeconds(2), Slotted);
        var last = SessionTransitions.Complete(first.State, Completion("t2"), T0.AddSeconds(3), Slotted);

        Assert.Equal("t2", first.Start?.TurnId);
        Assert.Null(first.ReleaseSlot);
        Assert.Null(last.Start);
        Assert.Equal(A1, last.ReleaseSlot);
        Assert.Null(last.State.Slot);
        // The next message asks anew, under an ask of its own.
        Assert.Equal($"{last.State.Events + 1}.{T0.UtcTicks}", Send(last.State, "t3").AskSlot);
    }

    [Fact]
    public void A_cancel_or_a_delete_lets_the_slot_or_the_ask_go()
    {
        var waiting = Send(ChatSessionState.Empty, "t1").State;
        var held = SessionTransitions.Granted(waiting, new SlotGrant(A1), T0, Slotted).State;

        var cancelled = SessionTransitions.Cancel(waiting, new TurnCancellation("t1"), T0.AddSeconds(1), Slotted);
        var deleted = SessionTransitions.Delete(held, new SessionDeletion(T0.AddSeconds(1)), T0.AddSeconds(1), Slotted);

        Assert.Equal((A1, (CallerSlot?)null), (cancelled.ReleaseSlot, cancelled.State.Slot));
        Assert.Equal((A1, (CallerSlot?)null), (deleted.ReleaseSlot, deleted.State.Slot));
    }

    [Fact]
    public void A_grant_the_session_no_longer_waits_for_goes_back_and_starts_nothing()
    {
        var waiting = Send(ChatSessionState.Empty, "t1").State;

        var older = SessionTransitions.Granted(waiting, new SlotGrant("0.0.0"), T0, Slotted);
        var unasked = SessionTransitions.Granted(ChatSessionState.Empty, new SlotGrant(A1), T0, Slotted);

        Assert.Equal((TransitionNote.Stale, "0.0.0", (TurnStart?)null, new CallerSlot(A1, false)), (older.Note, older.ReleaseSlot, older.Start, older.State.Slot));
        Assert.Equal((TransitionNote.Stale, A1), (unasked.Note, unasked.ReleaseSlot));
        Assert.True(unasked.State.IsVoid);
    }

    [Fact]
    public void Without_the_limit_a_turn_starts_at_once_and_a_slot_held_from_before_is_let_go()
    {
        var held = SessionTransitions.Granted(Send(ChatSessionState.Empty, "t1").State, new SlotGrant(A1), T0, Slotted).State;

        var unlimited = SessionTransitions.Enqueue(ChatSessionState.Empty, Request("t1"), T0, Limits);
        var finished = SessionTransitions.Complete(held, Completion("t1"), T0.AddSeconds(2), Limits);

        Assert.Equal(("t1", (string?)null), (unlimited.Start?.TurnId, unlimited.AskSlot));
        Assert.Equal(A1, finished.ReleaseSlot);
    }
}
