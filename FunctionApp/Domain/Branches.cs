using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

/// <summary>A new variant of a finished turn: regenerated (its message again) or edited (a new message).</summary>
/// <param name="Sequence">The turn it is a variant of.</param>
/// <param name="Parent">That turn's parent: the variant follows the same turns.</param>
/// <param name="Branch">That turn's branch line.</param>
public sealed record VariantRequest(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("parent")] long Parent,
    [property: JsonPropertyName("branch")] long Branch)
{
    /// <summary>An edit (a new message) rather than a regenerate.</summary>
    [JsonPropertyName("edit")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Edit { get; init; }

    /// <summary>
    /// The caller accepts that the turns after it leave the conversation (they stay on their own branch); an edit
    /// always does.
    /// </summary>
    [JsonPropertyName("later")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Later { get; init; }
}

/// <summary>The newest turn of one branch line.</summary>
public sealed record BranchTip([property: JsonPropertyName("b")] long Branch, [property: JsonPropertyName("t")] long Tip);

/// <summary>A turn followed by more than one variant: the variants, oldest first.</summary>
public sealed record Fork([property: JsonPropertyName("p")] long Parent, [property: JsonPropertyName("c")] IReadOnlyList<ForkChild> Children);

public sealed record ForkChild([property: JsonPropertyName("s")] long Sequence, [property: JsonPropertyName("b")] long Branch);

/// <summary>Follow another branch: the line a turn is on, up to its newest turn.</summary>
public sealed record BranchSwitch([property: JsonPropertyName("sequence")] long Sequence, [property: JsonPropertyName("branch")] long Branch);

/// <summary>
/// A session's turns form a tree: each turn follows its parent, and a regenerate or an edit makes a new variant of a
/// turn, a sibling with the same parent that begins a new branch line (its id is the variant's sequence; the first
/// line is 0). A new message follows the head, the newest turn of the branch the conversation follows, and continues
/// its line. The model is shown one line: the head's ancestors. A session that never branched stores none of this
/// (each turn's parent is the turn before it), and one that has stores a tip per line and the variants of each fork,
/// both bounded by <see cref="SessionLimits.MaxBranches"/>.
/// </summary>
public static class Branches
{
    public static long ParentOf(long sequence, long? parent) => parent ?? sequence - 1;

    public static long ParentOf(TranscriptTurn turn) => ParentOf(turn.Sequence, turn.Parent);

    public static long ParentOf(QueuedTurn turn) => ParentOf(turn.Sequence, turn.Parent);

    /// <summary>The newest turn of the branch followed, queued and running turns included; 0 when there is none.</summary>
    public static long HeadOf(ChatSessionState state) => state.Head ?? state.NextSequence - 1;

    /// <summary>How many branch lines the session has: 1 until it first branches.</summary>
    public static int Count(ChatSessionState state) => state.Tips?.Count ?? 1;

    /// <summary>The newest turn of a branch line, or null when the session has no such line.</summary>
    public static long? TipOf(ChatSessionState state, long branch) =>
        state.Tips is { } tips ? tips.FirstOrDefault(t => t.Branch == branch)?.Tip : branch == 0 ? HeadOf(state) : null;

    /// <summary>The branch line of the head.</summary>
    public static long HeadBranch(ChatSessionState state) => state.Tips?.FirstOrDefault(t => t.Tip == state.Head)?.Branch ?? 0;

    /// <summary>The variants that follow a turn (<paramref name="parent"/>), oldest first; null when only one does.</summary>
    public static Fork? ForkAfter(ChatSessionState state, long parent) => state.Forks?.FirstOrDefault(f => f.Parent == parent);

    /// <summary>
    /// The finished turns of the working set on the line from <paramref name="from"/> down to the first turn, newest
    /// first (queued and running turns on it are passed over), and where the line goes on in the archive: the
    /// sequence of its newest archived turn, 0 when it ends in the working set.
    /// </summary>
    public static (IReadOnlyList<TranscriptTurn> Line, long ArchivedFrom) LineFrom(ChatSessionState state, long from)
    {
        var finished = new Dictionary<long, TranscriptTurn>(state.Turns.Count);
        foreach (var turn in state.Turns)
        {
            finished[turn.Sequence] = turn;
        }

        var line = new List<TranscriptTurn>();
        long next = from;
        while (next > state.ArchivedThrough)
        {
            if (finished.TryGetValue(next, out var turn))
            {
                line.Add(turn);
                next = ParentOf(turn);
            }
            else if (Unfinished(state, next) is { } queued)
            {
                next = ParentOf(queued);
            }
            else
            {
                break;
            }
        }

        return (line, next > 0 && next <= state.ArchivedThrough ? next : 0);
    }

    /// <summary>
    /// Whether a turn is on the branch followed: certain within the working set; null when the line leaves it above
    /// the turn (only the archive can tell).
    /// </summary>
    public static bool? OnHeadLine(ChatSessionState state, long sequence)
    {
        var (line, archivedFrom) = LineFrom(state, HeadOf(state));
        if (line.Any(t => t.Sequence == sequence) || HeadOf(state) == sequence)
        {
            return true;
        }

        return archivedFrom >= sequence ? null : false;
    }

    /// <summary>Why a variant cannot be made now, or null when it can (the same rules the API checks first).</summary>
    public static string? WhyNot(ChatSessionState state, VariantRequest variant, SessionLimits limits)
    {
        if (variant.Sequence < 1 || variant.Sequence >= state.NextSequence || Unfinished(state, variant.Sequence) is not null)
        {
            return $"Turn '{variant.TurnId}' has not finished: only a finished turn gets a new variant.";
        }

        if (OnHeadLine(state, variant.Sequence) == false)
        {
            return $"Turn '{variant.TurnId}' is not on the branch the conversation follows: switch to it first.";
        }

        if (variant.Sequence != HeadOf(state) && !variant.Later && !variant.Edit)
        {
            return $"Turn '{variant.TurnId}' has later turns; say \"later\": true to leave them on their branch.";
        }

        return Count(state) >= limits.MaxBranches ? $"The session has {limits.MaxBranches} branches, as many as it may hold." : null;
    }

    /// <summary>The turn taken as the head's next: it continues the head's line.</summary>
    public static (long? Parent, long Branch) NextAfterHead(ChatSessionState state) =>
        state.Head is { } head ? (head, HeadBranch(state)) : (null, 0);

    /// <summary>The state once <paramref name="queued"/> is taken: it is the new head, on its line or on a line of its own.</summary>
    public static ChatSessionState Follow(ChatSessionState state, QueuedTurn queued, VariantRequest? variant)
    {
        if (variant is null)
        {
            return state.Head is null
                ? state
                : state with { Head = queued.Sequence, Tips = Retip(state.Tips!, queued.Branch, queued.Sequence) };
        }

        var tips = state.Tips ?? [new BranchTip(0, HeadOf(state))];
        var forks = state.Forks ?? [];
        var fork = forks.FirstOrDefault(f => f.Parent == variant.Parent) ?? new Fork(variant.Parent, [new ForkChild(variant.Sequence, variant.Branch)]);
        var grown = fork with { Children = [.. fork.Children, new ForkChild(queued.Sequence, queued.Branch)] };
        return state with
        {
            Head = queued.Sequence,
            Tips = [.. tips, new BranchTip(queued.Branch, queued.Sequence)],
            Forks = [.. forks.Where(f => f.Parent != variant.Parent), grown],
        };
    }

    static IReadOnlyList<BranchTip> Retip(IReadOnlyList<BranchTip> tips, long branch, long tip) =>
        tips.Select(t => t.Branch == branch ? t with { Tip = tip } : t).ToArray();

    static QueuedTurn? Unfinished(ChatSessionState state, long sequence) =>
        state.Active?.Turn is { } running && running.Sequence == sequence ? running : state.Pending.FirstOrDefault(p => p.Sequence == sequence);
}

/// <summary>
/// What a fork gives its new session: the line it copied into the new session's archive (renumbered 1 to
/// <see cref="Turns"/>, one line), the keys of its newest turns (so their ids are known to the new session), and the
/// summary's reach when the original's summary covered only turns of that line.
/// </summary>
public sealed record ForkSeed(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("turns")] long Turns,
    [property: JsonPropertyName("acceptedAt")] DateTimeOffset AcceptedAt,
    [property: JsonPropertyName("keys")] IReadOnlyList<ArchivedTurnKey> Keys)
{
    [JsonPropertyName("summaryThrough")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long SummaryThrough { get; init; }
}
