using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Domain;

public class ArchiveTransitionsTests
{
    static readonly SessionLimits Small = Limits with { MaxWorkingTurns = 4, MaxWorkingBytes = 100_000 };

    static Transition FinishTurns(int count, SessionLimits limits)
    {
        var state = ChatSessionState.Empty;
        Transition last = new(state, TransitionNote.Applied);
        for (int i = 1; i <= count; i++)
        {
            state = SessionTransitions.Enqueue(state, Request($"t{i}", $"message {i}"), T0, limits).State;
            last = SessionTransitions.Complete(state, Completion($"t{i}", $"answer {i}"), T0.AddSeconds(i), limits);
            state = last.State;
        }

        return last;
    }

    [Fact]
    public void A_batch_of_a_deleted_life_confirmed_in_the_next_erases_the_deleted_life_only()
    {
        var started = FinishTurns(5, Small);
        var deleted = SessionTransitions.Delete(started.State, new SessionDeletion(T0.AddSeconds(10)), T0.AddSeconds(10), Small).State;
        var reborn = SessionTransitions.Enqueue(deleted, Request("next") with { AcceptedAt = T0.AddSeconds(20) }, T0.AddSeconds(20), Small).State;

        var late = SessionTransitions.ConfirmArchived(reborn, new ArchiveReport(started.Archive!.BatchId, started.Archive.ThroughSequence), T0.AddSeconds(21), Small);

        Assert.True(late.DeleteArchive);
        Assert.Equal(new Erasure(deleted.DeletedAt!.Value, reborn.Generation - 1), Erasure.Of(late.State));
        Assert.True(deleted.DeletedAt < reborn.Pending.Concat(reborn.Active is { } a ? [a.Turn] : []).Min(t => t.AcceptedAt));
    }

    [Fact]
    public void A_delete_reaches_every_request_the_session_saw_a_conflict_included()
    {
        var state = SessionTransitions.Enqueue(ChatSessionState.Empty, Request("k1", "first"), T0, Limits).State;
        state = SessionTransitions.Enqueue(state, Request("k1", "another") with { AcceptedAt = T0.AddSeconds(30) }, T0.AddSeconds(30), Limits).State;

        var tombstone = SessionTransitions.Delete(state, new SessionDeletion(T0.AddSeconds(10)), T0.AddSeconds(31), Limits).State;

        Assert.Equal(T0.AddSeconds(30), tombstone.DeletedAt);
    }

    [Fact]
    public void A_working_set_within_its_bounds_archives_nothing()
    {
        var result = FinishTurns(4, Small);

        Assert.Null(result.Archive);
        Assert.Null(result.State.Archiving);
    }

    [Fact]
    public void Outgrowing_the_turn_bound_archives_the_oldest_turns_down_to_half_and_keeps_them_until_confirmed()
    {
        var result = FinishTurns(5, Small);

        Assert.NotNull(result.Archive);
        Assert.Equal([1L, 2L, 3L], result.Archive.Turns.Select(t => t.Sequence));
        Assert.Equal(3, result.Archive.ThroughSequence);
        Assert.Equal(5, result.State.Turns.Count);
        Assert.Equal(result.Archive.BatchId, result.State.Archiving?.BatchId);
    }

    [Fact]
    public void Outgrowing_the_byte_bound_archives_too()
    {
        var result = FinishTurns(3, Limits with { MaxWorkingTurns = 100, MaxWorkingBytes = 700 });

        Assert.NotNull(result.Archive);
        Assert.True(result.State.Turns.Skip(result.Archive.Turns.Count).Sum(SessionTransitions.TurnBytes) <= 350);
    }

    [Fact]
    public void Confirming_the_batch_drops_its_turns_and_records_the_archived_sequence()
    {
        var started = FinishTurns(5, Small);

        var confirmed = SessionTransitions.ConfirmArchived(started.State, new ArchiveReport(started.Archive!.BatchId, 3), T0.AddMinutes(1), Small);

        Assert.Equal([4L, 5L], confirmed.State.Turns.Select(t => t.Sequence));
        Assert.Equal(3, confirmed.State.ArchivedThrough);
        Assert.Null(confirmed.State.Archiving);
        Assert.Null(confirmed.Archive);
    }

    [Fact]
    public void A_retried_request_for_an_archived_turn_is_still_a_duplicate_within_the_window()
    {
        var started = FinishTurns(5, Small);
        var confirmed = SessionTransitions.ConfirmArchived(started.State, new ArchiveReport(started.Archive!.BatchId, 3), T0, Small).State;

        var duplicate = SessionTransitions.Enqueue(confirmed, Request("t2", "message 2"), T0, Small);
        var conflict = SessionTransitions.Enqueue(confirmed, Request("t2", "another"), T0, Small);

        Assert.Equal(TransitionNote.Duplicate, duplicate.Note);
        Assert.Equal(TransitionNote.Conflict, conflict.Note);
        Assert.Equal(["t1", "t2", "t3"], confirmed.ArchivedIds.Select(k => k.TurnId));
    }

    [Fact]
    public void The_window_of_archived_ids_is_bounded()
    {
        var limits = Small with { ArchivedIdWindow = 2 };
        var started = FinishTurns(5, limits);

        var confirmed = SessionTransitions.ConfirmArchived(started.State, new ArchiveReport(started.Archive!.BatchId, 3), T0, limits).State;

        Assert.Equal(["t2", "t3"], confirmed.ArchivedIds.Select(k => k.TurnId));
    }

    [Fact]
    public void A_confirmation_of_another_batch_changes_nothing()
    {
        var started = FinishTurns(5, Small);

        var stale = SessionTransitions.ConfirmArchived(started.State, new ArchiveReport("other", 3), T0, Small);

        Assert.Same(started.State, stale.State);
        Assert.False(stale.DeleteArchive);
    }

    [Fact]
    public void A_write_that_lands_after_the_session_was_deleted_deletes_the_archive_again()
    {
        var started = FinishTurns(5, Small);
        var deleted = SessionTransitions.Delete(started.State, null, T0, Small);

        var late = SessionTransitions.ConfirmArchived(deleted.State, new ArchiveReport(started.Archive!.BatchId, 3), T0, Small);

        Assert.True(deleted.DeleteArchive);
        Assert.True(late.DeleteArchive);
        Assert.True(late.State.IsEmpty);
    }

    [Fact]
    public void A_failed_write_keeps_the_turns_and_the_next_finished_turn_tries_again()
    {
        var started = FinishTurns(5, Small);

        var failed = SessionTransitions.ArchiveFailed(started.State, new ArchiveReport(started.Archive!.BatchId, 3), T0, Small);
        var retried = SessionTransitions.Enqueue(failed.State, Request("t6"), T0, Small);

        Assert.Equal(5, failed.State.Turns.Count);
        Assert.Null(failed.State.Archiving);
        Assert.NotNull(retried.Archive);
        Assert.Equal(1, retried.Archive.Turns[0].Sequence);
    }

    [Fact]
    public void A_write_never_confirmed_is_started_again_after_the_archive_timeout()
    {
        var started = FinishTurns(5, Small);
        var state = SessionTransitions.Enqueue(started.State, Request("t6"), T0, Small).State;

        var soon = SessionTransitions.Complete(state, Completion("t6"), T0.AddMinutes(1), Small);
        var late = SessionTransitions.Complete(state, Completion("t6"), T0 + Small.ArchiveTimeout + TimeSpan.FromMinutes(1), Small);

        Assert.Null(soon.Archive);
        Assert.NotNull(late.Archive);
        Assert.NotEqual(started.Archive!.BatchId, late.Archive.BatchId);
    }

    [Fact]
    public void Only_turns_older_than_every_unfinished_turn_are_archived()
    {
        // t1 runs while t2 waits; t3..t8 are cancelled in the queue: finished, but newer than the running turn.
        var limits = Small with { MaxPendingTurns = 10 };
        var state = ChatSessionState.Empty;
        for (int i = 1; i <= 8; i++)
        {
            state = SessionTransitions.Enqueue(state, Request($"t{i}"), T0, limits).State;
        }

        Transition last = new(state, TransitionNote.Applied);
        for (int i = 3; i <= 8; i++)
        {
            last = SessionTransitions.Cancel(last.State, new TurnCancellation($"t{i}"), T0, limits);
        }

        Assert.Equal(6, last.State.Turns.Count);
        Assert.Null(last.Archive);
    }

    [Fact]
    public void An_idle_session_past_its_retention_is_deleted_with_its_archive_and_any_turn_keeps_it()
    {
        var started = FinishTurns(5, Small);
        var archived = SessionTransitions.ConfirmArchived(started.State, new ArchiveReport(started.Archive!.BatchId, 3), T0.AddSeconds(10), Small).State;

        var due = new RetentionDue(archived.RetentionCheckAt!.Value);
        // Even 50 ms early (the backend runs a scheduled signal up to 100 ms early) it only arms itself again.
        var early = SessionTransitions.RetentionCheck(archived, due, archived.LastActivityAt + Small.IdleRetention - TimeSpan.FromMilliseconds(50), Small);
        var expired = SessionTransitions.RetentionCheck(archived, due, archived.LastActivityAt + Small.IdleRetention, Small);
        var forever = SessionTransitions.RetentionCheck(archived, due, archived.LastActivityAt + TimeSpan.FromDays(9999), Small with { IdleRetention = TimeSpan.Zero });

        Assert.Equal(TransitionNote.Rearmed, early.Note);
        Assert.Equal(archived.LastActivityAt + Small.IdleRetention, early.RetentionCheckAt);
        Assert.Equal(TransitionNote.Deleted, expired.Note);
        Assert.True(expired.DeleteArchive);
        Assert.True(expired.State.IsEmpty);
        Assert.Equal(TransitionNote.Rearmed, forever.Note);
        Assert.Null(forever.RetentionCheckAt);
    }

    [Fact]
    public void The_first_accepted_turn_arms_the_one_retention_check_and_later_turns_arm_none()
    {
        var first = SessionTransitions.Enqueue(ChatSessionState.Empty, Request("t1"), T0, Limits);
        var done = SessionTransitions.Complete(first.State, Completion("t1"), T0.AddSeconds(2), Limits);
        var second = SessionTransitions.Enqueue(done.State, Request("t2"), T0.AddSeconds(3), Limits);

        Assert.Equal(T0 + Limits.IdleRetention, first.RetentionCheckAt);
        Assert.Equal(first.RetentionCheckAt, second.State.RetentionCheckAt);
        Assert.Null(done.RetentionCheckAt);
        Assert.Null(second.RetentionCheckAt);
        Assert.Null(SessionTransitions.Enqueue(ChatSessionState.Empty, Request("t1"), T0, Limits with { IdleRetention = TimeSpan.Zero }).RetentionCheckAt);
    }

    [Fact]
    public void A_retention_check_that_finds_the_session_used_since_arms_itself_again_for_the_new_deadline()
    {
        // The check armed at the first turn's acceptance fires; the turn finished later, so the deadline moved.
        var state = ChatSessionState.Empty.Apply(s => SessionTransitions.Enqueue(s, Request("t1"), T0, Limits))
            .Apply(s => SessionTransitions.Complete(s, Completion("t1"), T0.AddMinutes(1), Limits));
        var firstCheck = state.RetentionCheckAt!.Value;

        var check = SessionTransitions.RetentionCheck(state, new RetentionDue(firstCheck), firstCheck, Limits);
        var early = SessionTransitions.RetentionCheck(check.State, new RetentionDue(check.RetentionCheckAt!.Value), check.RetentionCheckAt!.Value.AddMilliseconds(-900), Limits);
        var second = SessionTransitions.RetentionCheck(early.State, new RetentionDue(early.RetentionCheckAt!.Value), early.RetentionCheckAt!.Value, Limits);

        Assert.Equal(TransitionNote.Rearmed, check.Note);
        Assert.Equal(T0.AddMinutes(1) + Limits.IdleRetention, check.RetentionCheckAt);
        // 900 ms early (a whole-second queue's early delivery) is not yet: it arms itself again for the same deadline.
        Assert.Equal((TransitionNote.Rearmed, check.RetentionCheckAt), (early.Note, early.RetentionCheckAt));
        Assert.Equal(TransitionNote.Deleted, second.Note);
        Assert.True(second.State.IsTombstone);
    }

    [Fact]
    public void History_pages_come_from_state_and_archive_in_sequence_order_without_gaps()
    {
        var started = FinishTurns(9, Small with { MaxWorkingTurns = 100 });
        var state = started.State with { Turns = started.State.Turns.Where(t => t.Sequence > 5).ToArray(), ArchivedThrough = 5 };

        var recent = HistoryPaging.For(state, null, null);
        var page = HistoryPaging.For(state, 8, 4);
        var first = HistoryPaging.For(state, 3, 20);

        Assert.Equal([6L, 7L, 8L, 9L], recent.FromState.Select(t => t.Sequence));
        Assert.Equal(0, recent.ArchiveCount);
        Assert.Equal([6L, 7L], page.FromState.Select(t => t.Sequence));
        Assert.Equal((6L, 2), (page.ArchiveBefore, page.ArchiveCount));
        Assert.Empty(first.FromState);
        Assert.Equal((3L, 20), (first.ArchiveBefore, first.ArchiveCount));
    }
}
