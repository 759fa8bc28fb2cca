using FunctionsChat.Domain;
using FunctionsChat.Quota;
using FunctionsChat.Tests.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Options;
using Moq;

namespace FunctionsChat.Tests.Quota;

/// <summary>GET /Chat/usage: the caller's own use against each limit, read from their quota entity.</summary>
public class UsageFunctionsTests
{
    static UsageFunctions Usage(HttpHarness http) => new(http.Callers, Options.Create(http.Quota), http.Clock);

    static readonly EntityInstanceId Quota = CallerQuota.For(SessionKeys.OwnerOf(HttpHarness.Key()));

    [Fact]
    public async Task The_callers_use_is_shown_against_each_limit_and_a_session_with_two_asks_runs_once()
    {
        var http = new HttpHarness();
        http.Quota.MessagesPerMinute = 5;
        http.Quota.RunningTurns = 1;
        var usage = CallerQuotaRules.Accepted(new CallerUsage(), http.Clock.GetUtcNow(), http.Quota.Limits) with
        {
            Running = [new SlotHolder("a", "0.1.1"), new SlotHolder("a", "0.3.2")],
            Waiting = [new SlotHolder("b", "0.1.3")],
        };
        http.Usages[Quota] = usage;

        var answer = await Usage(http).GetUsage(HttpHarness.Request("GET", "/Chat/usage", contentType: null), http.Client.Object);

        var view = Assert.IsType<UsageView>(Assert.IsType<OkObjectResult>(answer).Value);
        Assert.Equal(new UsageLine(1, 5), view.MessagesPerMinute);
        Assert.Equal(new UsageLine(0, null) { Period = TimeSpan.FromDays(1) }, view.Tokens);
        Assert.Equal(new UsageLine(1, 1) { Waiting = 1 }, view.RunningTurns);
    }

    [Fact]
    public async Task A_quota_that_cannot_be_read_is_503_with_Retry_After_not_a_use_of_nothing()
    {
        var http = new HttpHarness();
        http.Entities.Setup(e => e.GetEntityAsync<CallerUsage>(Quota, true, It.IsAny<CancellationToken>())).ThrowsAsync(new TimeoutException("The entity read timed out."));
        var request = HttpHarness.Request("GET", "/Chat/usage", contentType: null);

        var answer = await Usage(http).GetUsage(request, http.Client.Object);

        HttpHarness.Problem(answer, 503, "usage-unavailable");
        Assert.Equal("1", request.HttpContext.Response.Headers.RetryAfter.ToString());
    }
}
