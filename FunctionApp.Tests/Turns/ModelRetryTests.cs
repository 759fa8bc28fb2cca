using FunctionsChat.Domain;
using FunctionsChat.Turns;
using Microsoft.DurableTask;

namespace FunctionsChat.Tests.Turns;

public class ModelRetryTests
{
    static TaskFailureDetails Details(string message) => new("FunctionsChat.Llm.ModelCallException", message, null, null, null);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 8)]
    public async Task A_transient_failure_waits_on_a_durable_timer_for_the_back_off_then_retries(int attempt, int seconds)
    {
        var turn = new TurnHarness();

        bool retry = await turn.Retry(ModelRetry.Options(RetrySchedule.Default), attempt, Details("[llm.timeout] no answer"));

        Assert.True(retry);
        Assert.Equal([TurnHarness.Now.AddSeconds(seconds)], turn.Timers);
    }

    [Fact]
    public async Task A_rate_limit_waits_at_least_the_Retry_After_the_service_asked_for()
    {
        var turn = new TurnHarness();

        bool retry = await turn.Retry(ModelRetry.Options(RetrySchedule.Default), 1, Details("[llm.rate_limited retry-after-ms=7000] 429"));

        Assert.True(retry);
        Assert.Equal([TurnHarness.Now.AddSeconds(7)], turn.Timers);
    }

    [Fact]
    public async Task A_timer_that_fires_early_is_armed_again_so_the_wait_is_never_shorter_than_asked()
    {
        var turn = new TurnHarness { FirstTimerEarly = TimeSpan.FromMilliseconds(810) };

        bool retry = await turn.Retry(ModelRetry.Options(RetrySchedule.Default), 1, Details("[llm.rate_limited retry-after-ms=2000] 429"));

        Assert.True(retry);
        Assert.Equal([TurnHarness.Now.AddSeconds(2), TurnHarness.Now.AddSeconds(2)], turn.Timers);
        Assert.Equal(TurnHarness.Now.AddSeconds(2), turn.Clock);
    }

    [Theory]
    [InlineData("[llm.bad_request] 400")]
    [InlineData("[llm.content_filtered] refused")]
    [InlineData("[llm.unauthorized] 401")]
    [InlineData("[llm.forbidden] 403")]
    [InlineData("[llm.not_found] 404 deployment")]
    [InlineData("InvalidOperationException: unexpected")]
    public async Task A_permanent_or_unclassified_failure_is_not_retried_and_waits_for_nothing(string message)
    {
        var turn = new TurnHarness();

        bool retry = await turn.Retry(ModelRetry.Options(RetrySchedule.Default), 1, Details(message));

        Assert.False(retry);
        Assert.Empty(turn.Timers);
    }

    [Fact]
    public async Task Retries_stop_when_the_configured_attempts_are_spent()
    {
        var turn = new TurnHarness();
        var options = ModelRetry.Options(RetrySchedule.Default with { MaxAttempts = 3 });

        Assert.True(await turn.Retry(options, 2, Details("[llm.server_error] 500")));
        Assert.False(await turn.Retry(options, 3, Details("[llm.server_error] 500")));
    }
}
