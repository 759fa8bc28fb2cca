using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Domain;

/// <summary>What a session has made of a request, as the HTTP functions read it before answering.</summary>
public class ReceiptTests
{
    [Fact]
    public void An_archived_turn_is_found_by_its_sequence_or_for_an_id_kept_without_one_by_searching_the_archived_id_window()
    {
        var state = ChatSessionState.Empty with
        {
            ArchivedThrough = 70,
            ArchivedIds = [new ArchivedTurnKey("old", "h1"), new ArchivedTurnKey("new", "h2") { Sequence = 70 }],
        };

        Assert.Equal((71L, 1), SessionQueries.ArchivedPlace(state, "new"));
        Assert.Equal((71L, 2), SessionQueries.ArchivedPlace(state, "old"));
        Assert.Null(SessionQueries.ArchivedPlace(state, "never"));
    }

    [Fact]
    public void A_request_the_session_has_not_seen_is_unseen_and_not_settled()
    {
        var receipt = SessionQueries.ReceiptOf(Enqueued("t1"), Request("t2"));

        Assert.Equal((ReceiptStatus.Unseen, false), (receipt.Status, receipt.IsSettled));
        Assert.False(SessionQueries.ReceiptOf(null, Request("t2")).IsSettled);
    }

    [Fact]
    public void The_same_message_under_its_key_is_taken_and_another_message_is_a_conflict()
    {
        var state = Enqueued("t1");

        Assert.Equal(ReceiptStatus.Taken, SessionQueries.ReceiptOf(state, Request("t1", "message t1")).Status);
        Assert.Equal(ReceiptStatus.Conflict, SessionQueries.ReceiptOf(state, Request("t1", "another message")).Status);
    }

    [Fact]
    public void A_refusal_answers_its_own_request_but_not_a_later_retry_of_it()
    {
        var full = Enqueued("a", "b", "c", "d");
        var refused = SessionTransitions.Enqueue(full, Request("t9"), T0, Limits).State;
        var retry = Request("t9") with { AcceptedAt = T0.AddSeconds(5) };

        Assert.Equal(ReceiptStatus.Refused, SessionQueries.ReceiptOf(refused, Request("t9")).Status);
        Assert.Equal(ReceiptStatus.Unseen, SessionQueries.ReceiptOf(refused, retry).Status);
    }

    [Fact]
    public void A_refused_request_delivered_again_once_there_is_room_stays_refused_but_a_later_retry_is_taken()
    {
        var full = Enqueued("a", "b", "c", "d");
        var refused = SessionTransitions.Enqueue(full, Request("t9"), T0, Limits).State;
        var roomy = refused.Completed("a");

        var copy = SessionTransitions.Enqueue(roomy, Request("t9"), T0.AddSeconds(4), Limits);
        var retry = SessionTransitions.Enqueue(roomy, Request("t9") with { AcceptedAt = T0.AddSeconds(5) }, T0.AddSeconds(5), Limits);

        Assert.Equal(TransitionNote.QueueFull, copy.Note);
        Assert.Same(roomy, copy.State);
        Assert.Equal(ReceiptStatus.Refused, SessionQueries.ReceiptOf(copy.State, Request("t9")).Status);
        Assert.Equal(TurnStatus.Queued, SessionQueries.FindTurn(retry.State, "t9")!.Status);
    }

    [Fact]
    public void A_rival_message_refused_under_the_same_key_does_not_hide_the_first_refusal()
    {
        var full = Enqueued("a", "b", "c", "d");
        var state = full
            .Apply(s => SessionTransitions.Enqueue(s, Request("t9", "first"), T0, Limits))
            .Apply(s => SessionTransitions.Enqueue(s, Request("t9", "rival"), T0, Limits));

        Assert.Equal(ReceiptStatus.Refused, SessionQueries.ReceiptOf(state, Request("t9", "first")).Status);
        Assert.Equal(ReceiptStatus.Refused, SessionQueries.ReceiptOf(state, Request("t9", "rival")).Status);
    }

    [Fact]
    public void A_delete_marks_as_dropped_every_request_it_erased_even_one_accepted_after_the_delete_was_asked()
    {
        // The delete was asked at T0+1 s; a turn accepted at T0+2 s was taken before the delete arrived and erased with it.
        var late = Request("t2") with { AcceptedAt = T0.AddSeconds(2) };
        var state = Enqueued("t1").Apply(s => SessionTransitions.Enqueue(s, late, T0.AddSeconds(2), Limits));

        var deleted = SessionTransitions.Delete(state, new SessionDeletion(T0.AddSeconds(1)), T0.AddSeconds(3), Limits).State;

        Assert.Equal(T0.AddSeconds(2), deleted.DeletedAt);
        Assert.Equal(ReceiptStatus.Dropped, SessionQueries.ReceiptOf(deleted, late).Status);
        Assert.Equal(TransitionNote.Deleted, SessionTransitions.Enqueue(deleted, late, T0.AddSeconds(4), Limits).Note);
        Assert.Equal(ReceiptStatus.Unseen, SessionQueries.ReceiptOf(deleted, Request("t3") with { AcceptedAt = T0.AddSeconds(3) }).Status);
    }
    [Fact]
    public void A_late_copy_of_a_refused_request_stays_refused_after_more_refusals_than_the_window_holds_until_the_redelivery_horizon()
    {
        // The queue is full; the first refusal is followed by a window's worth more, each a request of its own.
        var state = Enqueued("a", "b", "c", "d");
        for (int i = 0; i <= Limits.RefusedWindow; i++)
        {
            state = SessionTransitions.Enqueue(state, Request($"r{i}") with { AcceptedAt = T0.AddSeconds(i) }, T0.AddSeconds(i), Limits).State;
        }

        var roomy = state.Completed("a");
        var lateCopy = Request("r0");
        var beforeHorizon = SessionTransitions.Enqueue(roomy, lateCopy, T0 + Limits.RedeliveryHorizon - TimeSpan.FromMinutes(1), Limits);
        var pastHorizon = SessionTransitions.Enqueue(roomy, lateCopy, T0 + Limits.RedeliveryHorizon + TimeSpan.FromMinutes(1), Limits);

        Assert.DoesNotContain(roomy.Refused, r => r.TurnId == "r0");
        Assert.Equal(T0, roomy.RefusedThrough);
        Assert.Equal((ReceiptStatus.Refused, TransitionNote.QueueFull), (SessionQueries.ReceiptOf(roomy, lateCopy).Status, beforeHorizon.Note));
        Assert.Null(SessionQueries.FindTurn(beforeHorizon.State, "r0"));
        Assert.Equal(TurnStatus.Queued, SessionQueries.FindTurn(pastHorizon.State, "r0")!.Status);
        Assert.Null(pastHorizon.State.RefusedThrough);
        Assert.DoesNotContain(pastHorizon.State.Refused, r => r.AcceptedAt < T0 + TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void A_retry_accepted_after_the_refusals_remembered_by_time_is_judged_afresh()
    {
        var state = Enqueued("a", "b", "c", "d");
        for (int i = 0; i <= Limits.RefusedWindow; i++)
        {
            state = SessionTransitions.Enqueue(state, Request($"r{i}") with { AcceptedAt = T0.AddSeconds(i) }, T0.AddSeconds(i), Limits).State;
        }

        var retry = Request("r0") with { AcceptedAt = T0.AddSeconds(1) };
        var taken = SessionTransitions.Enqueue(state.Completed("a"), retry, T0.AddSeconds(30), Limits);

        Assert.Equal(TurnStatus.Queued, SessionQueries.FindTurn(taken.State, "r0")!.Status);
    }
}
