using System.Text.Json.Serialization;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using FunctionsChat.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Quota;

/// <summary>The caller's own use of the service and their limits, across all their sessions.</summary>
public sealed class UsageFunctions(CallerResolver callers, IOptions<QuotaOptions> options, TimeProvider clock)
{
    public const string Route = "Chat/usage";

    [Function(nameof(GetUsage))]
    public Task<IActionResult> GetUsage(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Route)] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        HttpSpan.TraceAsync(nameof(GetUsage), "", () => GetUsageAsync(request, client));

    async Task<IActionResult> GetUsageAsync(HttpRequest request, DurableTaskClient client)
    {
        var (caller, denied) = await callers.IdentifyAsync(request);
        if (denied is not null)
        {
            return denied.ToResult(request);
        }

        var limits = options.Value.Limits;
        var now = clock.GetUtcNow();
        CallerUsage? usage;
        try
        {
            usage = await QuotaStore.ReadAsync(client, SessionKeys.Owner(caller!), request.HttpContext.RequestAborted);
        }
        catch (Exception) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            request.HttpContext.Response.Headers.RetryAfter = "1";
            return ApiProblem.UsageUnavailable().ToResult(request);
        }

        var (running, waiting) = CallerSlotRules.Count(usage);
        return new OkObjectResult(new UsageView(
            new(CallerQuotaRules.MessagesInWindow(usage, now, limits), limits.MessagesPerMinute == 0 ? null : limits.MessagesPerMinute),
            new(CallerQuotaRules.TokensInPeriod(usage, now, limits), limits.TokensPerPeriod == 0 ? null : limits.TokensPerPeriod) { Period = limits.TokenPeriod },
            new(running, limits.RunningTurns == 0 ? null : limits.RunningTurns) { Waiting = waiting }));
    }
}

/// <summary>A use and its limit (null: no limit).</summary>
public sealed record UsageLine([property: JsonPropertyName("used")] long Used, [property: JsonPropertyName("limit")] long? Limit)
{
    [JsonPropertyName("period")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TimeSpan? Period { get; init; }

    /// <summary>For running turns: the caller's sessions waiting for one of their slots.</summary>
    [JsonPropertyName("waiting")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Waiting { get; init; }
}

/// <summary>
/// The caller's use against each limit: messages accepted in the last minute, model tokens in the token period, and
/// sessions holding a running-turn slot (each runs one turn at a time) with those waiting for one.
/// </summary>
public sealed record UsageView(
    [property: JsonPropertyName("messagesPerMinute")] UsageLine MessagesPerMinute,
    [property: JsonPropertyName("tokens")] UsageLine Tokens,
    [property: JsonPropertyName("runningTurns")] UsageLine RunningTurns);
