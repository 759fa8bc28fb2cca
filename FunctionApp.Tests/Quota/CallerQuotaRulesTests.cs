using FunctionsChat.Domain;

namespace FunctionsChat.Tests.Quota;

public class CallerQuotaRulesTests
{
    static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    static readonly QuotaLimits Limits = new(MessagesPerMinute: 3, TokensPerPeriod: 1_000, TokenPeriod: TimeSpan.FromHours(1));

    [Fact]
    public void The_message_past_the_rate_is_refused_until_the_oldest_of_the_minute_leaves_it()
    {
        var usage = new[] { 0, 10, 20 }.Aggregate(new CallerUsage(), (u, s) => CallerQuotaRules.Accepted(u, T0.AddSeconds(s), Limits));

        var refused = CallerQuotaRules.Check(usage, T0.AddSeconds(30), Limits);
        var later = CallerQuotaRules.Check(usage, T0.AddSeconds(65), Limits);

        Assert.Equal(new QuotaRefusal(CallerQuotaRules.MessageRate, TimeSpan.FromSeconds(35)), refused);
        Assert.Null(later);
        Assert.Null(CallerQuotaRules.Check(CallerQuotaRules.Accepted(new CallerUsage(), T0, Limits), T0.AddSeconds(1), Limits));
    }

    [Fact]
    public void Tokens_past_the_budget_refuse_messages_until_the_oldest_use_leaves_the_period_and_uses_count_in_any_order()
    {
        var usage = CallerQuotaRules.Used(new CallerUsage(), new TokenCharge(600, T0.AddMinutes(30)), Limits);
        usage = CallerQuotaRules.Used(usage, new TokenCharge(400, T0), Limits);

        var refused = CallerQuotaRules.Check(usage, T0.AddMinutes(31), Limits);

        Assert.Equal(CallerQuotaRules.TokenBudget, refused!.Limit);
        Assert.Equal(TimeSpan.FromMinutes(34), refused.RetryAfter);
        Assert.Equal(1_000, CallerQuotaRules.TokensInPeriod(usage, T0.AddMinutes(31), Limits));
        Assert.Equal(600, CallerQuotaRules.TokensInPeriod(usage, T0.AddMinutes(66), Limits));
        Assert.Null(CallerQuotaRules.Check(usage, T0.AddMinutes(66), Limits));
    }

    [Fact]
    public void An_estimate_counts_until_the_calls_reported_usage_replaces_it_in_its_bucket_and_every_disorder_counts_more_never_less()
    {
        var estimate = new TokenCharge(300, T0.AddMinutes(1)) { Call = "c1", Estimate = true };
        var report = new TokenCharge(250, T0.AddMinutes(2)) { Call = "c1" };
        var usage = CallerQuotaRules.Used(CallerQuotaRules.Used(new CallerUsage(), new TokenCharge(100, T0.AddMinutes(20)), Limits), estimate, Limits);

        var copied = CallerQuotaRules.Used(usage, estimate, Limits);
        var replaced = CallerQuotaRules.Used(usage, report, Limits);
        var reportTwice = CallerQuotaRules.Used(replaced, report, Limits);
        var reportFirst = CallerQuotaRules.Used(CallerQuotaRules.Used(new CallerUsage(), report, Limits), estimate, Limits);

        Assert.Equal(400, CallerQuotaRules.TokensInPeriod(usage, T0.AddMinutes(30), Limits));
        Assert.Equal(400, CallerQuotaRules.TokensInPeriod(copied, T0.AddMinutes(30), Limits));
        Assert.Equal(350, CallerQuotaRules.TokensInPeriod(replaced, T0.AddMinutes(30), Limits));
        Assert.Null(replaced.Estimates);
        Assert.Equal(600, CallerQuotaRules.TokensInPeriod(reportTwice, T0.AddMinutes(30), Limits));
        Assert.Equal(550, CallerQuotaRules.TokensInPeriod(reportFirst, T0.AddMinutes(30), Limits));
        // The replaced estimate's bucket is the one corrected: the report leaves with the estimate's minute.
        Assert.Equal(100, CallerQuotaRules.TokensInPeriod(replaced, T0.AddMinutes(66), Limits));
    }

    [Fact]
    public void Estimates_held_stay_bounded_and_pass_out_of_the_period()
    {
        var usage = Enumerable.Range(0, 1_000).Aggregate(new CallerUsage(), (u, i) =>
            CallerQuotaRules.Used(u, new TokenCharge(1, T0.AddSeconds(i)) { Call = $"c{i}", Estimate = true }, Limits));

        Assert.Equal(CallerQuotaRules.MaxEstimates, usage.Estimates!.Count);
        Assert.Equal(1_000, CallerQuotaRules.TokensInPeriod(usage, T0.AddSeconds(1_000), Limits));
        Assert.True(CallerQuotaRules.Current(usage, CallerQuotaRules.AllPassedAt(usage, Limits)!.Value, Limits).IsIdle);
    }

    [Fact]
    public void The_usage_stays_bounded_and_is_idle_once_everything_has_left_its_window()
    {
        var usage = Enumerable.Range(0, 10_000).Aggregate(new CallerUsage(), (u, i) =>
            CallerQuotaRules.Used(CallerQuotaRules.Accepted(u, T0.AddSeconds(i), Limits), new TokenCharge(1, T0.AddSeconds(i)), Limits));

        Assert.InRange(usage.Messages.Count, 1, 13);
        Assert.InRange(usage.Tokens.Count, 1, 13);
        var allPassed = CallerQuotaRules.AllPassedAt(usage, Limits)!.Value;
        Assert.True(CallerQuotaRules.Current(usage, allPassed, Limits).IsIdle);
        Assert.False(CallerQuotaRules.Current(usage, allPassed.AddSeconds(-1), Limits).IsIdle);
    }

    [Fact]
    public void No_limit_refuses_nothing()
    {
        var off = new QuotaLimits(0, 0, TimeSpan.FromDays(1));
        var usage = CallerQuotaRules.Used(CallerQuotaRules.Accepted(new CallerUsage(), T0, off), new TokenCharge(1_000_000, T0), off);

        Assert.False(off.Any);
        Assert.Null(CallerQuotaRules.Check(usage, T0, off));
    }
}
