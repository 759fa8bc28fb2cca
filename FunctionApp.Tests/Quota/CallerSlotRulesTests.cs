using FunctionsChat.Domain;

namespace FunctionsChat.Tests.Quota;

/// <summary>The caller's quota grants running-turn slots to their sessions in the order they asked, up to the limit.</summary>
public class CallerSlotRulesTests
{
    static readonly QuotaLimits Two = new(0, 0, TimeSpan.FromDays(1)) { RunningTurns = 2 };

    static SlotHolder S(int n, string ask = "0.1") => new($"s{n}", ask);

    static SlotDecision AskAll(QuotaLimits limits, params SlotHolder[] asks) =>
        asks.Aggregate(new SlotDecision(new CallerUsage(), []), (d, ask) => CallerSlotRules.Ask(d.Usage, ask, limits) is var next ? next with { Granted = [.. d.Granted, .. next.Granted] } : d);

    [Fact]
    public void Asks_past_the_limit_wait_in_order_and_each_release_grants_the_oldest()
    {
        var asked = AskAll(Two, S(1), S(2), S(3), S(4));

        Assert.Equal([S(1), S(2)], asked.Granted);
        Assert.Equal([S(3), S(4)], asked.Usage.Waiting);

        var released = CallerSlotRules.Release(asked.Usage, S(2), Two);

        Assert.Equal([S(3)], released.Granted);
        Assert.Equal([S(1), S(3)], released.Usage.Running);
        Assert.Equal([S(4)], released.Usage.Waiting);
    }

    [Fact]
    public void A_copy_of_an_ask_is_granted_again_or_keeps_its_place_and_never_takes_a_second_slot()
    {
        var asked = AskAll(Two, S(1), S(2), S(3));

        var copyOfGranted = CallerSlotRules.Ask(asked.Usage, S(1), Two);
        var copyOfWaiting = CallerSlotRules.Ask(asked.Usage, S(3), Two);

        Assert.Equal([S(1)], copyOfGranted.Granted);
        Assert.Equal(asked.Usage, copyOfGranted.Usage);
        Assert.Empty(copyOfWaiting.Granted);
        Assert.Equal(asked.Usage.Running, copyOfWaiting.Usage.Running!);
        Assert.Equal(asked.Usage.Waiting, copyOfWaiting.Usage.Waiting!);
    }

    [Fact]
    public void A_later_ask_of_the_same_session_waits_beside_its_earlier_one_whose_release_leaves_it_alone()
    {
        var asked = AskAll(Two, S(1), S(2), S(3, "0.7"));
        // An ask from a state that was never saved arrives after the one that replaced it.
        var stale = CallerSlotRules.Ask(asked.Usage, S(3, "0.1"), Two);

        var released = CallerSlotRules.Release(stale.Usage, S(3, "0.1"), Two);

        Assert.Equal([S(3, "0.7"), S(3, "0.1")], stale.Usage.Waiting);
        Assert.Equal([S(3, "0.7")], released.Usage.Waiting);
        Assert.Empty(released.Granted);
    }

    [Fact]
    public void The_waiting_line_is_bounded_an_ask_past_it_is_dropped_for_its_session_to_ask_again_and_admission_refuses_other_sessions()
    {
        var one = Two with { RunningTurns = 1 };
        var full = AskAll(one, [.. Enumerable.Range(0, CallerSlotRules.MaxWaiting + 1).Select(n => S(n))]);

        var over = CallerSlotRules.Ask(full.Usage, S(999), one);

        Assert.Equal(CallerSlotRules.MaxWaiting, full.Usage.Waiting!.Count);
        Assert.Empty(over.Granted);
        Assert.Equal(full.Usage, over.Usage);
        Assert.Equal(new QuotaRefusal(CallerQuotaRules.RunningTurns, CallerSlotRules.RecheckAfter), CallerQuotaRules.Admit(full.Usage, "s999", DateTimeOffset.UnixEpoch, one));
        Assert.Null(CallerQuotaRules.Admit(full.Usage, "s5", DateTimeOffset.UnixEpoch, one));
        Assert.Null(CallerQuotaRules.Admit(full.Usage, "s0", DateTimeOffset.UnixEpoch, one));
    }

    [Fact]
    public void A_quota_full_to_every_bound_stays_within_the_stored_state_budget()
    {
        // The most the state holds: the largest running-turn limit, a full waiting line, as many estimates as are kept,
        // and every bucket, with the longest session ids and the widest asks, as the backend stores it.
        var at = DateTimeOffset.MaxValue.AddDays(-1);
        string Longest(int n) => $"{n}".PadRight(SessionIds.MaxLength, 'x');
        var full = new CallerUsage
        {
            Messages = [.. Enumerable.Range(0, 13).Select(i => new UsageBucket(at.AddSeconds(-5 * i), long.MaxValue))],
            Tokens = [.. Enumerable.Range(0, 13).Select(i => new UsageBucket(at.AddHours(-i), long.MaxValue))],
            PruneAt = at,
            Running = [.. Enumerable.Range(0, FunctionsChat.Quota.QuotaOptions.MaxRunningTurns).Select(n => new SlotHolder(Longest(n), $"{long.MaxValue}.{at.UtcTicks}"))],
            Waiting = [.. Enumerable.Range(0, CallerSlotRules.MaxWaiting).Select(n => new SlotHolder(Longest(n), $"{long.MaxValue}.{at.UtcTicks}"))],
            Estimates = [.. Enumerable.Range(0, CallerQuotaRules.MaxEstimates).Select(n => new TokenEstimate(Guid.NewGuid().ToString("N"), long.MaxValue, at))],
        };

        Assert.InRange(PayloadBudget.Bytes(full), 1, PayloadBudget.MaxBytes);
    }

    [Fact]
    public void A_session_asking_again_while_it_waits_is_granted_the_room_a_raised_limit_made()
    {
        var one = Two with { RunningTurns = 1 };
        var asked = AskAll(one, S(1), S(2));

        var again = CallerSlotRules.Ask(asked.Usage, S(2), Two);

        Assert.Equal([S(2)], again.Granted);
        Assert.Equal([S(1), S(2)], again.Usage.Running);
    }

    [Fact]
    public void With_every_slot_released_the_usage_is_idle_and_turning_the_limit_off_lets_everyone_go_on()
    {
        var asked = AskAll(Two, S(1), S(2), S(3));

        var off = CallerSlotRules.Release(asked.Usage, S(1), Two with { RunningTurns = 0 });
        var empty = new[] { S(2), S(3) }.Aggregate(off.Usage, (u, h) => CallerSlotRules.Release(u, h, Two).Usage);

        Assert.Equal([S(3)], off.Granted);
        Assert.True(empty.IsIdle);
    }
}
