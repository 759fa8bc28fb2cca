using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Domain;

public class BranchTransitionsTests
{
    static readonly SessionLimits Roomy = Limits with { MaxPendingTurns = 10 };

    /// <summary>t1, t2, t3 completed, one after another.</summary>
    static ChatSessionState Three() =>
        new[] { "t1", "t2", "t3" }.Aggregate(ChatSessionState.Empty, (s, id) =>
            SessionTransitions.Complete(SessionTransitions.Enqueue(s, Request(id, "message " + id), T0, Roomy).State, Completion(id, "answer " + id), T0.AddSeconds(3), Roomy).State);

    static TurnRequest Variant(ChatSessionState state, string turnId, string of, string? message = null, bool later = false)
    {
        var turn = SessionQueries.FindTurn(state, of)!.Finished!;
        return Request(turnId, message ?? turn.Message) with
        {
            VariantOf = new VariantRequest(of, turn.Sequence, Branches.ParentOf(turn), turn.Branch) { Edit = message is not null, Later = later },
        };
    }

    static string[] Line(ChatSessionState state, long from) => Branches.LineFrom(state, from).Line.Reverse().Select(t => t.TurnId).ToArray();

    [Fact]
    public void A_session_that_never_branched_stores_no_parent_branch_head_tip_or_fork()
    {
        var state = Three();

        Assert.All(state.Turns, t => Assert.Equal((null, 0L), (t.Parent, t.Branch)));
        Assert.Equal((null, null, null, 0L), (state.Head, state.Tips, state.Forks, state.BranchedEvent));
        Assert.Equal(["t1", "t2", "t3"], Line(state, Branches.HeadOf(state)));
    }

    [Fact]
    public void A_regenerated_turn_follows_the_old_ones_parent_on_a_line_of_its_own_and_is_the_new_head()
    {
        var regenerated = SessionTransitions.Enqueue(Three(), Variant(Three(), "r3", "t3"), T0, Roomy);

        var state = regenerated.State;
        var r3 = state.Active!.Turn;
        Assert.Equal((4L, 2L, 4L), (r3.Sequence, r3.Parent!.Value, r3.Branch));
        Assert.Equal(4, state.Head);
        Assert.Equal([new BranchTip(0, 3), new BranchTip(4, 4)], state.Tips);
        Assert.Equal([new Fork(2, [new ForkChild(3, 0), new ForkChild(4, 4)])], state.Forks!.Select(f => f with { Children = [.. f.Children] }), new ForkComparer());
        Assert.Equal(r3.QueuedEvent + 1, state.BranchedEvent);
        // The model is shown t1 and t2, not the answer it replaces.
        Assert.Equal(["message t1", "answer t1", "message t2", "answer t2"], regenerated.Start!.History.Select(m => m.Content));
        Assert.Equal("message t3", regenerated.Start.Message);
    }

    [Fact]
    public void A_message_after_a_regenerate_continues_the_new_line_and_the_old_line_keeps_its_turns()
    {
        var state = SessionTransitions.Enqueue(Three(), Variant(Three(), "r3", "t3"), T0, Roomy).State.Completed("r3", "answer r3");

        var next = SessionTransitions.Enqueue(state, Request("t5", "message t5"), T0, Roomy);

        Assert.Equal((4L, 4L), (next.State.Active!.Turn.Parent!.Value, next.State.Active.Turn.Branch));
        Assert.Equal(["t1", "t2", "r3"], Line(next.State, 5));
        Assert.Equal(["t1", "t2", "t3"], Line(next.State, 3));
        Assert.Equal(["message t1", "answer t1", "message t2", "answer t2", "message t3", "answer r3"], next.Start!.History.Select(m => m.Content));
        Assert.Equal([new BranchTip(0, 3), new BranchTip(4, 5)], next.State.Tips);
    }

    [Fact]
    public void An_edit_of_an_earlier_message_leaves_the_later_turns_on_their_branch_and_a_switch_brings_them_back()
    {
        var edited = SessionTransitions.Enqueue(Three(), Variant(Three(), "e2", "t2", "message t2, edited"), T0, Roomy).State.Completed("e2", "answer e2");
        Assert.Equal(["t1", "e2"], Line(edited, Branches.HeadOf(edited)));

        var back = SessionTransitions.SwitchBranch(edited, new BranchSwitch(2, 0), T0.AddSeconds(9), Roomy);

        Assert.Equal(TransitionNote.Applied, back.Note);
        Assert.Equal(3, back.State.Head);
        Assert.Equal(["t1", "t2", "t3"], Line(back.State, Branches.HeadOf(back.State)));
        Assert.Equal(back.State.Events, back.State.BranchedEvent);
        Assert.Equal(TransitionNote.Duplicate, SessionTransitions.SwitchBranch(back.State, new BranchSwitch(3, 0), T0.AddSeconds(9), Roomy).Note);
        Assert.Equal(TransitionNote.NotFound, SessionTransitions.SwitchBranch(back.State, new BranchSwitch(9, 9), T0.AddSeconds(9), Roomy).Note);
    }

    [Theory]
    [InlineData("t2", false, "has later turns")]
    [InlineData("t2", true, null)]
    [InlineData("t3", false, null)]
    public void A_turn_with_later_turns_is_regenerated_only_when_the_caller_says_so(string of, bool later, string? why)
    {
        var state = Three();

        string? whyNot = Branches.WhyNot(state, Variant(state, "r", of, later: later).VariantOf!, Roomy);

        Assert.Equal(why is null, whyNot is null);
        Assert.Contains(why ?? "", whyNot ?? "");
    }

    [Fact]
    public void A_variant_of_a_turn_not_on_the_branch_followed_or_past_the_branch_limit_is_taken_and_failed_on_the_branch_followed()
    {
        var edited = SessionTransitions.Enqueue(Three(), Variant(Three(), "e2", "t2", "edited"), T0, Roomy).State.Completed("e2", "answer e2");
        var offLine = Variant(Three(), "r3", "t3");

        var refused = SessionTransitions.Enqueue(edited, offLine, T0, Roomy);
        var full = SessionTransitions.Enqueue(edited, Variant(edited, "r4", "e2"), T0, Roomy with { MaxBranches = 2 });

        var failed = SessionQueries.FindTurn(refused.State, "r3")!;
        Assert.Equal((TurnStatus.Failed, ErrorCodes.BranchInvalid), (failed.Status, failed.Finished!.ErrorCode));
        Assert.Contains("not on the branch", failed.Finished.ErrorMessage);
        Assert.Equal(4, Branches.ParentOf(failed.Finished));
        Assert.Null(refused.Start);
        Assert.Equal(ErrorCodes.BranchInvalid, SessionQueries.FindTurn(full.State, "r4")!.Finished!.ErrorCode);
        Assert.Equal(2, Branches.Count(full.State));
    }

    [Fact]
    public void A_variant_the_session_can_no_longer_make_stops_nothing_its_strategy_would_have_stopped()
    {
        var edited = SessionTransitions.Enqueue(Three(), Variant(Three(), "e2", "t2", "edited"), T0, Roomy).State;
        var offLine = Variant(Three(), "r3", "t3") with { Strategy = MultitaskStrategy.Interrupt };

        var refused = SessionTransitions.Enqueue(edited, offLine, T0, Roomy).State;

        Assert.Equal(("e2", null), (refused.Active!.Turn.TurnId, refused.Active.Stop));
        Assert.Equal(ErrorCodes.BranchInvalid, SessionQueries.FindTurn(refused, "r3")!.Finished!.ErrorCode);
    }

    [Fact]
    public void A_fork_is_taken_by_a_session_that_holds_nothing_and_only_by_it()
    {
        var seed = new ForkSeed("copy", 3, T0, [new ArchivedTurnKey("t3", Fingerprint.Of("message t3")) { Sequence = 3 }]) { SummaryThrough = 1 };

        var adopted = SessionTransitions.Adopt(ChatSessionState.Empty, seed, T0.AddSeconds(1), Roomy);
        var again = SessionTransitions.Adopt(adopted.State, seed, T0.AddSeconds(2), Roomy);
        var three = Three();
        var over = SessionTransitions.Adopt(three, seed, T0.AddSeconds(2), Roomy);

        Assert.Equal((3L, 4L, 1L, "copy"), (adopted.State.ArchivedThrough, adopted.State.NextSequence, adopted.State.SummaryThrough, adopted.State.SessionId));
        Assert.Equal((TransitionNote.Duplicate, TransitionNote.Conflict), (again.Note, over.Note));
        Assert.Same(three, over.State);
        // A retry of t3 by its key is the copied turn.
        Assert.Equal(ReceiptStatus.Taken, SessionQueries.ReceiptOf(adopted.State, Request("t3", "message t3")).Status);
    }

    sealed class ForkComparer : IEqualityComparer<Fork>
    {
        public bool Equals(Fork? x, Fork? y) => x!.Parent == y!.Parent && x.Children.SequenceEqual(y.Children);

        public int GetHashCode(Fork fork) => fork.Parent.GetHashCode();
    }
}
