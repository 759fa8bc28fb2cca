namespace FunctionsChat.Domain;

/// <summary>
/// Pages through a session's finished turns in sequence order: the newest from the entity's working set, older ones
/// from the archive. Sequences are dense and the archive holds exactly 1..ArchivedThrough, so pages have no gaps and
/// no repeats.
/// </summary>
public static class HistoryPaging
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    /// <summary>What to take from the state, and how many turns before which sequence to read from the archive.</summary>
    /// <param name="BeforeIfEmpty">The cursor to give when the page comes out empty: the archive's end, for a default view whose working set is empty.</param>
    public sealed record Plan(IReadOnlyList<TranscriptTurn> FromState, long ArchiveBefore, int ArchiveCount, long? BeforeIfEmpty = null);

    /// <param name="before">Only turns with a lower sequence; null for the newest.</param>
    /// <param name="limit">How many turns; null with no cursor means the whole working set.</param>
    public static Plan For(ChatSessionState state, long? before, int? limit)
    {
        if (before is null && limit is null)
        {
            return new(state.Turns, 0, 0, state.ArchivedThrough > 0 ? state.ArchivedThrough + 1 : null);
        }

        long below = before ?? long.MaxValue;
        int count = limit ?? DefaultLimit;
        var fromState = state.Turns.Where(t => t.Sequence < below).TakeLast(count).ToArray();
        long archiveBefore = Math.Min(below, state.ArchivedThrough + 1);
        int need = count - fromState.Length;
        return need > 0 && archiveBefore > 1 ? new(fromState, archiveBefore, need) : new(fromState, 0, 0);
    }

    /// <summary>
    /// For a session that has branched: the page of the line the conversation follows. <paramref name="before"/> is a
    /// turn of the line; the page holds the line's turns before it (its ancestors), newest last.
    /// </summary>
    /// <param name="FromState">The page's turns from the working set, in order.</param>
    /// <param name="ArchiveFrom">The line's newest archived turn to read from (0: none), unless <paramref name="ArchiveParentOf"/> names the archived turn whose parent it is.</param>
    public sealed record LinePlan(IReadOnlyList<TranscriptTurn> FromState, long ArchiveFrom, int ArchiveCount, long? ArchiveParentOf = null);

    public static LinePlan ForLine(ChatSessionState state, long? before, int? limit)
    {
        int count = before is null && limit is null ? int.MaxValue : limit ?? DefaultLimit;
        long start = Branches.HeadOf(state);
        if (before is { } cursor)
        {
            if (cursor <= state.ArchivedThrough)
            {
                return new([], 0, count, cursor);
            }

            start = state.Turns.FirstOrDefault(t => t.Sequence == cursor) is { } turn ? Branches.ParentOf(turn)
                : state.Pending.Append(state.Active?.Turn).FirstOrDefault(t => t?.Sequence == cursor) is { } queued ? Branches.ParentOf(queued)
                : cursor - 1;
        }

        var (line, archivedFrom) = Branches.LineFrom(state, start);
        var fromState = line.Take(count).Reverse().ToArray();
        int need = count == int.MaxValue ? (fromState.Length == 0 ? DefaultLimit : 0) : count - fromState.Length;
        return new(fromState, need > 0 ? archivedFrom : 0, Math.Max(need, 0));
    }

    /// <returns>The page in sequence order, and the cursor of the page before it (null at the first turn).</returns>
    public static (IReadOnlyList<TranscriptTurn> Turns, long? Before) Page(IReadOnlyList<TranscriptTurn> archived, Plan plan)
    {
        var page = archived.Concat(plan.FromState).ToArray();
        return (page, page.Length == 0 ? plan.BeforeIfEmpty : page[0].Sequence > 1 ? page[0].Sequence : null);
    }
}
