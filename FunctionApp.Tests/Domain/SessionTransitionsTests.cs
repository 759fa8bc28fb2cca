using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Domain;

public class SessionTransitionsTests
{
    [Fact]
    public void Enqueue_on_an_idle_session_starts_the_turn_at_once()
    {
        var result = SessionTransitions.Enqueue(ChatSessionState.Empty, Request("t1", "Write a poem"), T0, Limits);

        Assert.Equal(TransitionNote.Applied, result.Note);
        Assert.NotNull(result.Start);
        Assert.Equal(("session123", "t1", 1L, "Write a poem"), (result.Start.SessionId, result.Start.TurnId, result.Start.Sequence, result.Start.Message));
        Assert.Empty(result.Start.History);
        Assert.Equal(T0 + Limits.TurnTimeout, result.Start.ExpiresAt);
        Assert.Equal("t1", result.State.Active?.Turn.TurnId);
        Assert.Empty(result.State.Pending);
        Assert.Equal("session123", result.State.SessionId);
    }

    [Fact]
    public void Enqueue_while_a_turn_runs_queues_the_message_behind_it()
    {
        var result = SessionTransitions.Enqueue(Enqueued("t1"), Request("t2", "second"), T0.AddSeconds(1), Limits);

        Assert.Null(result.Start);
        Assert.Equal("t1", result.State.Active?.Turn.TurnId);
        var queued = Assert.Single(result.State.Pending);
        Assert.Equal(("t2", 2L, "second", T0.AddSeconds(1)), (queued.TurnId, queued.Sequence, queued.Message, queued.QueuedAt));
    }

    [Theory]
    [InlineData("t1")] // running
    [InlineData("t2")] // queued
    public void Enqueue_of_a_known_turn_with_the_same_message_is_a_duplicate_and_changes_nothing(string turnId)
    {
        var state = Enqueued("t1", "t2");

        var result = SessionTransitions.Enqueue(state, Request(turnId, "message " + turnId), T0.AddSeconds(9), Limits);

        Assert.Equal(TransitionNote.Duplicate, result.Note);
        Assert.Same(state, result.State);
        Assert.Null(result.Start);
    }

    [Fact]
    public void Enqueue_of_a_finished_turn_with_the_same_message_is_a_duplicate_and_changes_nothing()
    {
        var state = Enqueued("t1").Completed("t1");

        var result = SessionTransitions.Enqueue(state, Request("t1", "message t1"), T0.AddSeconds(9), Limits);

        Assert.Equal(TransitionNote.Duplicate, result.Note);
        Assert.Same(state, result.State);
    }

    [Fact]
    public void Enqueue_of_a_known_turn_id_with_another_message_is_a_conflict_and_changes_nothing()
    {
        var state = Enqueued("t1", "t2");

        var result = SessionTransitions.Enqueue(state, Request("t2", "something else"), T0, Limits);

        Assert.Equal(TransitionNote.Conflict, result.Note);
        Assert.Same(state, result.State);
    }

    [Fact]
    public void Enqueue_beyond_the_queue_bound_stores_no_text_and_a_retry_with_the_same_key_is_taken_once_there_is_room()
    {
        var full = Enqueued("t1", "t2", "t3", "t4");

        var result = SessionTransitions.Enqueue(full, Request("t5", "a long message"), T0, Limits);
        var room = SessionTransitions.Complete(result.State, Completion("t1"), T0.AddSeconds(1), Limits).State;
        var retried = SessionTransitions.Enqueue(room, Request("t5", "a long message") with { AcceptedAt = T0.AddSeconds(2) }, T0.AddSeconds(2), Limits);

        Assert.Equal(TransitionNote.QueueFull, result.Note);
        Assert.Equal(3, result.State.Pending.Count);
        Assert.Empty(result.State.Turns);
        Assert.Equal(full.NextSequence, result.State.NextSequence);
        Assert.Null(result.RetentionCheckAt);
        Assert.DoesNotContain("a long message", System.Text.Json.JsonSerializer.Serialize(result.State));
        Assert.Equal((TurnStatus.Failed, ErrorCodes.QueueFull), (SessionQueries.FindOutcome(result.State, "t5")!.Status, SessionQueries.FindOutcome(result.State, "t5")!.Finished!.ErrorCode));
        Assert.Equal(TransitionNote.Applied, retried.Note);
        Assert.Equal(TurnStatus.Queued, SessionQueries.FindOutcome(retried.State, "t5")!.Status);
        Assert.Empty(retried.State.Refused);
    }

    [Fact]
    public void Complete_records_the_reply_and_starts_the_next_turn_with_the_new_history()
    {
        var state = Enqueued("t1", "t2");

        var result = SessionTransitions.Complete(state, Completion("t1", "first answer"), T0.AddSeconds(5), Limits);

        var done = Assert.Single(result.State.Turns);
        Assert.Equal(("t1", TurnStatus.Completed, "first answer", "gpt-test", 15L), (done.TurnId, done.Status, done.Answer, done.Model, done.Usage!.TotalTokens));
        Assert.Equal("t2", result.Start?.TurnId);
        Assert.Equal([new("user", "message t1"), new("assistant", "first answer")], result.Start!.History);
        Assert.Equal("t2", result.State.Active?.Turn.TurnId);
        Assert.Empty(result.State.Pending);
    }

    [Fact]
    public void Complete_for_a_turn_that_is_not_the_active_one_changes_nothing()
    {
        var state = Enqueued("t1", "t2");

        var result = SessionTransitions.Complete(state, Completion("t2"), T0, Limits);

        Assert.Equal(TransitionNote.Stale, result.Note);
        Assert.Same(state, result.State);
        Assert.Null(result.Start);
    }

    [Fact]
    public void Fail_records_the_error_keeps_the_message_and_starts_the_next_turn()
    {
        var state = Enqueued("t1", "t2");

        var result = SessionTransitions.Fail(state, new TurnFailure("t1", "llm.unauthorized", "bad key", T0.AddSeconds(1)), T0.AddSeconds(1), Limits);

        var failed = Assert.Single(result.State.Turns);
        Assert.Equal(("t1", TurnStatus.Failed, "llm.unauthorized", "bad key", "message t1"), (failed.TurnId, failed.Status, failed.ErrorCode, failed.ErrorMessage, failed.Message));
        Assert.Equal("t2", result.Start?.TurnId);
        Assert.Empty(result.Start!.History); // a failed turn is not shown to the model
    }

    [Fact]
    public void Fail_for_a_turn_that_is_not_the_active_one_changes_nothing()
    {
        var state = Enqueued("t1");

        var result = SessionTransitions.Fail(state, new TurnFailure("other", "x", "y", T0), T0, Limits);

        Assert.Equal(TransitionNote.Stale, result.Note);
        Assert.Same(state, result.State);
    }

    [Fact]
    public void Expire_after_the_deadline_fails_the_active_turn_and_starts_the_next()
    {
        var state = Enqueued("t1", "t2");

        var result = SessionTransitions.Expire(state, new TurnExpiry("t1") { At = state.ExpiryCheckAt }, T0 + Limits.TurnTimeout, Limits);

        var expired = Assert.Single(result.State.Turns);
        Assert.Equal((TurnStatus.Failed, ErrorCodes.TurnExpired), (expired.Status, expired.ErrorCode));
        Assert.Equal("t2", result.Start?.TurnId);
    }

    [Fact]
    public void An_expiry_that_arrives_50_ms_before_the_deadline_arms_itself_again_and_fails_nothing()
    {
        var state = Enqueued("t1");

        var early = SessionTransitions.Expire(state, new TurnExpiry("t1") { At = state.ExpiryCheckAt }, T0 + Limits.TurnTimeout - TimeSpan.FromMilliseconds(50), Limits);

        Assert.Equal(TransitionNote.Rearmed, early.Note);
        Assert.Equal(("t1", T0 + Limits.TurnTimeout), (early.State.Active?.Turn.TurnId, early.State.ExpiryCheckAt));
        Assert.Empty(early.State.Turns);
    }

    [Fact]
    public void Expire_before_the_deadline_or_for_another_turn_changes_nothing()
    {
        var state = Enqueued("t1");

        Assert.Same(state, SessionTransitions.Expire(state, new TurnExpiry("t1"), T0.AddMinutes(1), Limits).State);
        Assert.Same(state, SessionTransitions.Expire(state, new TurnExpiry("t9"), T0.AddHours(1), Limits).State);
    }

    [Fact]
    public void Expire_of_a_turn_that_already_completed_changes_nothing()
    {
        var state = Enqueued("t1").Completed("t1");

        var result = SessionTransitions.Expire(state, new TurnExpiry("t1"), T0.AddHours(1), Limits);

        Assert.Equal(TransitionNote.Stale, result.Note);
        Assert.Same(state, result.State);
    }

    [Fact]
    public void Cancel_of_a_queued_turn_removes_it_from_the_queue_and_records_it_cancelled()
    {
        var state = Enqueued("t1", "t2", "t3");

        var result = SessionTransitions.Cancel(state, new TurnCancellation("t2"), T0.AddSeconds(1), Limits);

        Assert.Equal(["t3"], result.State.Pending.Select(t => t.TurnId));
        Assert.Equal("t1", result.State.Active?.Turn.TurnId);
        Assert.Equal(TurnStatus.Cancelled, Assert.Single(result.State.Turns).Status);
        Assert.Null(result.Start);
    }

    [Fact]
    public void Cancel_of_a_finished_or_unknown_turn_changes_nothing()
    {
        var state = Enqueued("t1").Completed("t1");

        var finished = SessionTransitions.Cancel(state, new TurnCancellation("t1"), T0, Limits);
        var unknown = SessionTransitions.Cancel(state, new TurnCancellation("nope"), T0, Limits);

        Assert.Equal((TransitionNote.AlreadyFinished, TransitionNote.NotFound), (finished.Note, unknown.Note));
        Assert.Same(state, finished.State);
        Assert.Same(state, unknown.State);
    }

    [Fact]
    public void Delete_leaves_an_empty_session_which_a_late_result_does_not_revive()
    {
        var deleted = SessionTransitions.Delete(Enqueued("t1", "t2"), null, T0, Limits).State;
        var late = SessionTransitions.Complete(deleted, Completion("t1"), T0, Limits);

        Assert.True(deleted.IsEmpty);
        Assert.True(late.State.IsEmpty);
        Assert.Null(late.Start);
    }

    [Fact]
    public void The_context_of_a_turn_is_the_conversation_when_it_starts_and_not_when_it_was_queued()
    {
        var state = Enqueued("t1", "t2", "t3");
        var second = SessionTransitions.Complete(state, Completion("t1", "a1"), T0.AddSeconds(1), Limits);
        var third = SessionTransitions.Complete(second.State, Completion("t2", "a2"), T0.AddSeconds(2), Limits);

        Assert.Equal(["message t1", "a1"], second.Start!.History.Select(m => m.Content));
        Assert.Equal(["message t1", "a1", "message t2", "a2"], third.Start!.History.Select(m => m.Content));
        Assert.Equal("message t3", third.Start.Message);
    }

    [Fact]
    public void Turn_lookup_tells_queued_position_running_and_finished()
    {
        var state = Enqueued("t1", "t2", "t3").Completed("t1");

        Assert.Equal(TurnStatus.Completed, SessionQueries.FindTurn(state, "t1")?.Status);
        Assert.Equal(TurnStatus.Running, SessionQueries.FindTurn(state, "t2")?.Status);
        Assert.Equal((TurnStatus.Queued, 1), (SessionQueries.FindTurn(state, "t3")?.Status, SessionQueries.FindTurn(state, "t3")?.Position));
        Assert.Null(SessionQueries.FindTurn(state, "t4"));
    }

    [Fact]
    public void Every_turn_event_takes_the_sessions_next_number_and_the_turn_keeps_its_own()
    {
        // t1 queued (1) and started (2); t2 and t3 queued (3, 4); t3 cancelled while queued (5); t1 done (6), t2 started (7).
        var state = Enqueued("t1", "t2", "t3")
            .Apply(s => SessionTransitions.Cancel(s, new TurnCancellation("t3"), T0.AddSeconds(1), Limits))
            .Completed("t1");

        Assert.Equal(7, state.Events);
        var t1 = state.Turns.Single(t => t.TurnId == "t1");
        var t3 = state.Turns.Single(t => t.TurnId == "t3");
        Assert.Equal((1L, 2L, 6L), (t1.QueuedEvent, t1.StartedEvent, t1.FinishedEvent));
        Assert.Equal((4L, 0L, 5L), (t3.QueuedEvent, t3.StartedEvent, t3.FinishedEvent));
        Assert.Equal((3L, 7L), (state.Active!.Turn.QueuedEvent, state.Active.StartedEvent));
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L, 7L], SessionEventLog.After(state, 0).Select(e => e.Number));
        Assert.Equal("t2", SessionEventLog.RunningAfter(state, 7)!.TurnId);
        Assert.Equal("t1", SessionEventLog.RunningAfter(state, 5)!.TurnId);

        // A request refused for a full queue is no event.
        var full = Enqueued("a", "b", "c", "d");
        Assert.Equal(SessionTransitions.Enqueue(full, Request("e"), T0, Limits).State.Events, full.Events);
    }
}
