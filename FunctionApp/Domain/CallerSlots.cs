using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

/// <summary>
/// A session's ask for one of its caller's running-turn slots: which session, and which ask (the session's event number
/// and moment when it asked, so a grant of an older ask is never taken for a newer one).
/// </summary>
public sealed record SlotHolder([property: JsonPropertyName("s")] string Session, [property: JsonPropertyName("a")] string Ask);

/// <summary>The caller's quota to a session: the slot it asked for is its own.</summary>
public sealed record SlotGrant([property: JsonPropertyName("ask")] string Ask);

/// <summary>The slot a session asked for (not yet granted) or holds; the session starts a turn only while it holds one.</summary>
public sealed record CallerSlot([property: JsonPropertyName("ask")] string Ask, [property: JsonPropertyName("held")] bool Held);

/// <summary>What the caller's quota decided: its usage, and the asks it granted (each to be told).</summary>
public sealed record SlotDecision(CallerUsage Usage, IReadOnlyList<SlotHolder> Granted);

/// <summary>
/// Turns running at once across a caller's sessions. A session that has a turn to start asks the caller's quota for a
/// slot and starts it only once granted; it keeps the slot while it has turns to run, one after another, and lets it
/// go when it has none. The quota grants in the order sessions asked, up to the limit. Pure: the quota entity carries
/// the decisions out by signals, which between entities arrive once and in order.
/// </summary>
public static class CallerSlotRules
{
    /// <summary>
    /// Asks the quota keeps waiting; past it an ask is dropped (its session asks again after <see cref="RecheckAfter"/>)
    /// and new messages to the caller's other sessions are refused (429).
    /// </summary>
    public const int MaxWaiting = 64;

    /// <summary>
    /// How long a session waits for its grant before it asks again under the same ask. An ask the quota let go of (a
    /// release sent by an operation whose state was then lost, and run again from before it) is asked again then.
    /// </summary>
    public static readonly TimeSpan RecheckAfter = TimeSpan.FromSeconds(30);

    public static SlotDecision Ask(CallerUsage usage, SlotHolder ask, QuotaLimits limits)
    {
        var running = usage.Running ?? [];
        var waiting = usage.Waiting ?? [];
        if (running.Contains(ask))
        {
            // A copy of an ask already granted: the grant is told again (the session takes it once).
            return new(usage, [ask]);
        }

        if (waiting.Contains(ask))
        {
            // Asked again while waiting: any room the limit has (it may have been raised) is handed out.
            return Fill(usage, limits);
        }

        // Another ask of the same session is kept beside its earlier one: an ask sent from a state that was never
        // saved may arrive after the one that replaced it, and its grant goes back once the session sees it is stale.
        if (waiting.Count >= MaxWaiting)
        {
            return new(usage, []);
        }

        return Fill(With(usage, running, [.. waiting, ask]), limits);
    }

    /// <summary>A session lets its slot (or its ask) go; the oldest waiting asks take the room.</summary>
    public static SlotDecision Release(CallerUsage usage, SlotHolder release, QuotaLimits limits) =>
        Fill(With(usage, [.. (usage.Running ?? []).Where(h => h != release)], [.. (usage.Waiting ?? []).Where(h => h != release)]), limits);

    /// <summary>When a session asked under an ask (its last part is the moment's ticks); null for an ask of another form.</summary>
    public static DateTimeOffset? AskedAt(string ask) =>
        long.TryParse(ask.AsSpan(ask.LastIndexOf('.') + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long ticks)
            && ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks
            ? new DateTimeOffset(ticks, TimeSpan.Zero)
            : null;

    /// <summary>Sessions holding a slot, and sessions waiting for one (a session with an older ask beside its newer one counts once).</summary>
    public static (int Running, int Waiting) Count(CallerUsage? usage) =>
        (usage?.Running?.Select(h => h.Session).Distinct().Count() ?? 0, usage?.Waiting?.Select(h => h.Session).Distinct().Count() ?? 0);

    static SlotDecision Fill(CallerUsage usage, QuotaLimits limits)
    {
        var running = (usage.Running ?? []).ToList();
        var waiting = (usage.Waiting ?? []).ToList();
        var granted = new List<SlotHolder>();
        // With the limit turned off, every waiting session is let go on.
        while (waiting.Count > 0 && (limits.RunningTurns <= 0 || running.Count < limits.RunningTurns))
        {
            granted.Add(waiting[0]);
            running.Add(waiting[0]);
            waiting.RemoveAt(0);
        }

        return new(With(usage, running, waiting), granted);
    }

    static CallerUsage With(CallerUsage usage, IReadOnlyList<SlotHolder> running, IReadOnlyList<SlotHolder> waiting) =>
        usage with { Running = running.Count == 0 ? null : running, Waiting = waiting.Count == 0 ? null : waiting };
}
