using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Domain;

/// <summary>Cancel, and the four strategies for a message that arrives while a turn runs, as the session decides them.</summary>
public class StopTransitionsTests
{
    static TurnRequest With(string turnId, MultitaskStrategy strategy) => Request(turnId, "message " + turnId) with { Strategy = strategy };

    static TurnCompletion Stopped(string turnId, string partial) => Completion(turnId, partial) with { Stopped = true };

    [Fact]
    public void Cancel_of_the_running_turn_asks_it_to_stop_and_the_next_starts_only_when_its_model_call_has_reported()
    {
        var cancelled = SessionTransitions.Cancel(Enqueued("t1", "t2"), new TurnCancellation("t1"), T0.AddSeconds(1), Limits);

        Assert.Null(cancelled.Start);
        Assert.Equal(TurnStatus.Cancelled, cancelled.State.Active!.Stop);
        // The session's stop check is armed for the end of the stop grace.
        Assert.Equal(T0.AddSeconds(1) + Limits.StopGrace, cancelled.State.Active.StopBy);
        Assert.Equal(cancelled.State.Active.StopBy, cancelled.StopCheckAt);
        Assert.Equal(cancelled.StopCheckAt, cancelled.State.StopCheckAt);
        Assert.False(SessionQueries.Runs(cancelled.State, "t1", null));

        var reported = SessionTransitions.Complete(cancelled.State, Stopped("t1", "Once upon"), T0.AddSeconds(2), Limits);

        Assert.Equal("t2", reported.Start?.TurnId);
        Assert.Equal(new TurnVerdict("t1", TurnStatus.Cancelled), reported.Verdict);
        var t1 = Assert.Single(reported.State.Turns);
        Assert.Equal((TurnStatus.Cancelled, "Once upon"), (t1.Status, t1.Answer));
        Assert.Equal(TransitionNote.Duplicate, SessionTransitions.Cancel(cancelled.State, new TurnCancellation("t1"), T0.AddSeconds(1), Limits).Note);
    }

    [Fact]
    public void A_stopped_report_of_a_turn_the_session_never_asked_to_stop_is_not_the_turns_outcome()
    {
        // An execution that read a state never saved, or one a later start replaced, stops on its own and reports.
        var running = Enqueued("t1", "t2");

        var ghost = SessionTransitions.Complete(running, Stopped("t1", ""), T0.AddSeconds(2), Limits);
        var answered = SessionTransitions.Complete(ghost.State, Completion("t1", "the answer"), T0.AddSeconds(3), Limits);

        Assert.Equal(TransitionNote.Stale, ghost.Note);
        Assert.Same(running, ghost.State);
        Assert.Equal(new TurnVerdict("t1", TurnStatus.Running), ghost.Verdict);
        Assert.Equal((TurnStatus.Completed, "the answer"), (answered.State.Turns.Single().Status, answered.State.Turns.Single().Answer));
    }

    [Fact]
    public void A_report_of_an_execution_started_for_another_message_under_the_same_key_is_stale()
    {
        var running = Enqueued("t1");
        string hash = running.Active!.Turn.MessageHash;

        var other = SessionTransitions.Complete(running, Completion("t1", "an answer to another message") with { MessageHash = Fingerprint.Of("another message") }, T0.AddSeconds(2), Limits);
        var failed = SessionTransitions.Fail(running, new TurnFailure("t1", "llm.server_error", "boom", T0.AddSeconds(2)) { MessageHash = Fingerprint.Of("another message") }, T0.AddSeconds(2), Limits);
        var own = SessionTransitions.Complete(running, Completion("t1", "the answer") with { MessageHash = hash }, T0.AddSeconds(2), Limits);

        Assert.Equal((TransitionNote.Stale, TransitionNote.Stale), (other.Note, failed.Note));
        Assert.Equal(TurnStatus.Completed, own.State.Turns.Single().Status);
    }

    [Fact]
    public void A_stopped_turn_that_never_reports_is_finished_by_its_expiry_at_the_stop_grace()
    {
        var cancelled = SessionTransitions.Cancel(Enqueued("t1", "t2"), new TurnCancellation("t1"), T0, Limits).State;

        var early = SessionTransitions.Expire(cancelled, new TurnExpiry("t1") { At = cancelled.StopCheckAt }, T0 + Limits.StopGrace - TimeSpan.FromMilliseconds(50), Limits);
        var due = SessionTransitions.Expire(cancelled, new TurnExpiry("t1") { At = cancelled.StopCheckAt }, T0 + Limits.StopGrace, Limits);

        Assert.Equal((TransitionNote.Rearmed, cancelled.StopCheckAt), (early.Note, early.StopCheckAt));
        Assert.Equal("t2", due.Start?.TurnId);
        var t1 = Assert.Single(due.State.Turns);
        Assert.Equal((TurnStatus.Cancelled, (string?)null, (string?)null), (t1.Status, t1.Answer, t1.ErrorCode));
    }

    [Fact]
    public void Reject_refuses_a_message_while_a_turn_runs_or_waits_and_stores_nothing_of_it()
    {
        var running = Enqueued("t1");
        var queuedOnly = Enqueued("t1", "t2");

        var refused = SessionTransitions.Enqueue(running, With("t9", MultitaskStrategy.Reject), T0, Limits);
        var again = SessionTransitions.Enqueue(refused.State, With("t9", MultitaskStrategy.Reject), T0, Limits);
        var idle = SessionTransitions.Enqueue(running.Completed("t1"), With("t9", MultitaskStrategy.Reject), T0.AddSeconds(5), Limits);

        Assert.Equal(TransitionNote.Busy, refused.Note);
        Assert.Null(SessionQueries.FindTurn(refused.State, "t9"));
        Assert.Equal(running.Pending, refused.State.Pending);
        Assert.Equal(running.Events, refused.State.Events);
        var receipt = SessionQueries.ReceiptOf(refused.State, With("t9", MultitaskStrategy.Reject));
        Assert.Equal((ReceiptStatus.Refused, ErrorCodes.TurnInProgress), (receipt.Status, receipt.Turn?.Finished?.ErrorCode));
        Assert.Equal(TransitionNote.Busy, again.Note);
        Assert.Equal(TransitionNote.Busy, SessionTransitions.Enqueue(queuedOnly, With("t9", MultitaskStrategy.Reject), T0, Limits).Note);
        // With nothing running or waiting, a rejecting message runs like any other.
        Assert.Equal("t9", idle.Start?.TurnId);
    }

    [Theory]
    [InlineData(MultitaskStrategy.Interrupt, TurnStatus.Interrupted, true)]
    [InlineData(MultitaskStrategy.Rollback, TurnStatus.RolledBack, false)]
    public void Interrupt_and_rollback_cancel_the_queue_stop_the_running_turn_and_run_next(MultitaskStrategy strategy, TurnStatus stopped, bool modelSeesIt)
    {
        var state = Enqueued("t0").Completed("t0", "earlier answer").Apply(s => SessionTransitions.Enqueue(s, Request("t1", "message t1"), T0, Limits))
            .Apply(s => SessionTransitions.Enqueue(s, Request("t2", "message t2"), T0, Limits));

        var taken = SessionTransitions.Enqueue(state, With("t3", strategy), T0.AddSeconds(1), Limits);

        Assert.Equal(TransitionNote.Applied, taken.Note);
        Assert.Null(taken.Start);
        Assert.Equal(stopped, taken.State.Active!.Stop);
        Assert.Equal(["t3"], taken.State.Pending.Select(p => p.TurnId));
        var t2 = taken.State.Turns.Single(t => t.TurnId == "t2");
        Assert.Equal(TurnStatus.Cancelled, t2.Status);
        Assert.True(t2.FinishedEvent < taken.State.Pending[0].QueuedEvent);

        var next = SessionTransitions.Complete(taken.State, Stopped("t1", "Half an ans"), T0.AddSeconds(2), Limits);

        Assert.Equal("t3", next.Start?.TurnId);
        var t1 = next.State.Turns.Single(t => t.TurnId == "t1");
        Assert.Equal((stopped, "Half an ans"), (t1.Status, t1.Answer));
        // What the model sees next: the earlier turns, and the interrupted turn with its partial answer (not rolled back).
        string[] expected = modelSeesIt
            ? ["message t0", "earlier answer", "message t1", "Half an ans"]
            : ["message t0", "earlier answer"];
        Assert.Equal(expected, next.Start!.History.Select(m => m.Content));
    }

    [Fact]
    public void An_interrupted_turn_whose_model_had_said_nothing_is_left_out_of_the_conversation()
    {
        var taken = SessionTransitions.Enqueue(Enqueued("t1"), With("t2", MultitaskStrategy.Interrupt), T0, Limits).State;

        var next = SessionTransitions.Complete(taken, Stopped("t1", ""), T0.AddSeconds(1), Limits);

        var t1 = Assert.Single(next.State.Turns);
        Assert.Equal((TurnStatus.Interrupted, (string?)null), (t1.Status, t1.Answer));
        Assert.Empty(next.Start!.History);
    }

    [Fact]
    public void A_turn_whose_model_finished_before_it_saw_the_stop_keeps_the_whole_answer_under_the_stop_status()
    {
        var taken = SessionTransitions.Enqueue(Enqueued("t1"), With("t2", MultitaskStrategy.Interrupt), T0, Limits).State;

        var next = SessionTransitions.Complete(taken, Completion("t1", "the whole answer"), T0.AddSeconds(1), Limits);

        Assert.Equal((TurnStatus.Interrupted, "the whole answer"), (next.State.Turns[0].Status, next.State.Turns[0].Answer));
        Assert.Equal("t2", next.Start?.TurnId);
    }

    [Fact]
    public void Interrupt_with_nothing_running_cancels_what_waits_and_runs_at_once()
    {
        // A queue held back (the active slot empty) is cancelled too.
        var state = ChatSessionState.Empty with { Pending = Enqueued("t1", "t2").Pending, Events = 3 };

        var taken = SessionTransitions.Enqueue(state, With("t3", MultitaskStrategy.Interrupt), T0, Limits);

        Assert.Equal("t3", taken.Start?.TurnId);
        Assert.Equal([("t2", TurnStatus.Cancelled)], taken.State.Turns.Select(t => (t.TurnId, t.Status)));
    }

    [Fact]
    public void A_stop_check_armed_for_an_earlier_stop_does_not_finish_a_later_one()
    {
        // t1 is stopped and reports at once; t2 starts and is stopped a moment later, while t1's stop check is on its way.
        var first = SessionTransitions.Cancel(Enqueued("t1", "t2"), new TurnCancellation("t1"), T0, Limits);
        var reported = SessionTransitions.Complete(first.State, Stopped("t1", ""), T0.AddMilliseconds(300), Limits).State;
        var second = SessionTransitions.Cancel(reported, new TurnCancellation("t2"), T0.AddMilliseconds(500), Limits).State;

        var check = SessionTransitions.Expire(second, new TurnExpiry("t1") { At = first.StopCheckAt }, T0 + Limits.StopGrace, Limits);

        Assert.Equal(TransitionNote.Rearmed, check.Note);
        Assert.Equal("t2", check.State.Active?.Turn.TurnId);
        Assert.Equal(T0.AddMilliseconds(500) + Limits.StopGrace, check.StopCheckAt);
    }
}
