namespace FunctionsChat.Domain;

public enum LifecycleKind
{
    Queued,
    Started,
    Finished,

    /// <summary>The conversation moved to another branch (a regenerate, an edit or a switch): its sequence is the new head.</summary>
    Branched,
}

/// <summary>A numbered event of the session (<see cref="ChatSessionState.Events"/>): one turn queued, started or finished.</summary>
public sealed record LifecycleEvent(long Number, LifecycleKind Kind, string TurnId, long Sequence);

/// <summary>A turn that ran (or runs) between two of the session's events: the turn whose stream fills that stretch.</summary>
public sealed record RunningTurn(string TurnId, DateTimeOffset AcceptedAt, long StartedEvent, long? FinishedEvent, TranscriptTurn? Finished);

/// <summary>
/// The session's events as its state still holds them: each turn keeps the numbers of its own events (queued, started,
/// finished) until it is archived, so any reader rebuilds the same events in the same order from any state it reads.
/// </summary>
public static class SessionEventLog
{
    /// <summary>The events numbered after <paramref name="after"/> that the state still holds, in order.</summary>
    public static IReadOnlyList<LifecycleEvent> After(ChatSessionState state, long after)
    {
        var events = new List<LifecycleEvent>();
        void Add(long number, LifecycleKind kind, string turnId, long sequence)
        {
            if (number > after)
            {
                events.Add(new(number, kind, turnId, sequence));
            }
        }

        foreach (var turn in state.Turns)
        {
            Add(turn.QueuedEvent, LifecycleKind.Queued, turn.TurnId, turn.Sequence);
            Add(turn.StartedEvent, LifecycleKind.Started, turn.TurnId, turn.Sequence);
            Add(turn.FinishedEvent, LifecycleKind.Finished, turn.TurnId, turn.Sequence);
        }

        if (state.Active is { } active)
        {
            Add(active.Turn.QueuedEvent, LifecycleKind.Queued, active.Turn.TurnId, active.Turn.Sequence);
            Add(active.StartedEvent, LifecycleKind.Started, active.Turn.TurnId, active.Turn.Sequence);
        }

        foreach (var queued in state.Pending)
        {
            Add(queued.QueuedEvent, LifecycleKind.Queued, queued.TurnId, queued.Sequence);
        }

        // Only the latest move is held: a reader behind an earlier one is told to read the history again (sync).
        if (state.BranchedEvent > 0)
        {
            Add(state.BranchedEvent, LifecycleKind.Branched, "", Branches.HeadOf(state));
        }

        events.Sort((a, b) => a.Number.CompareTo(b.Number));
        return events;
    }

    /// <summary>
    /// The newest event before which the state no longer holds every event (their turns were archived): a reader
    /// behind it cannot be told what it missed one by one. <paramref name="after"/> itself when nothing is missing.
    /// </summary>
    public static long MissingThrough(ChatSessionState state, long after, IReadOnlyList<LifecycleEvent> held)
    {
        var numbers = held.Select(e => e.Number).ToHashSet();
        for (long n = state.Events; n > after; n--)
        {
            if (!numbers.Contains(n))
            {
                return n;
            }
        }

        return after;
    }

    /// <summary>The turn that was running right after event <paramref name="at"/>, if the state still holds it.</summary>
    public static RunningTurn? RunningAfter(ChatSessionState state, long at)
    {
        if (state.Active is { } active && active.StartedEvent > 0 && active.StartedEvent <= at)
        {
            return new(active.Turn.TurnId, active.Turn.AcceptedAt, active.StartedEvent, null, null);
        }

        foreach (var turn in state.Turns)
        {
            if (turn.StartedEvent > 0 && turn.StartedEvent <= at && turn.FinishedEvent > at)
            {
                return new(turn.TurnId, turn.AcceptedAt, turn.StartedEvent, turn.FinishedEvent, turn);
            }
        }

        return null;
    }

    /// <summary>
    /// Where a window that names no event starts: right before the oldest turn still queued or running, so it sees
    /// what is under way (a running answer from its first word); at the newest event when nothing is.
    /// </summary>
    public static long FreshStart(ChatSessionState state)
    {
        var unfinished = state.Pending.Select(p => p.QueuedEvent).Concat(state.Active is { } a ? [a.Turn.QueuedEvent] : []).Where(n => n > 0).ToArray();
        return unfinished.Length == 0 ? state.Events : unfinished.Min() - 1;
    }
}
