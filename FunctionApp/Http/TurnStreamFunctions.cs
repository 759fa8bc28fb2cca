using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>A turn followed live as server-sent events (<see cref="TurnEvents"/>), resumable with <c>Last-Event-ID</c>.</summary>
public sealed class TurnStreamFunctions(CallerResolver callers, ITranscriptArchive archive, ITurnStreams streams, TimeProvider clock, StreamLimiter limiter, IOptions<ApiOptions> options)
{
    public const string LastEventIdHeader = "Last-Event-ID";

    [Function(nameof(StreamTurn))]
    public Task<IActionResult> StreamTurn(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = ChatRoutes.TurnStream)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId,
        string turnId) =>
        HttpSpan.TraceAsync(nameof(StreamTurn), sessionId, () => StreamTurnAsync(request, client, sessionId, turnId));

    async Task<IActionResult> StreamTurnAsync(HttpRequest request, DurableTaskClient client, string sessionId, string turnId)
    {
        // An unknown turn (or session, or caller) is a plain problem answer, before any event is written.
        var (_, sessionKey, problem) = await TurnLookup.FindAsync(request, client, callers, archive, sessionId, turnId);
        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        async Task<TurnView?> Read(CancellationToken cancellation) =>
            await SessionStore.ReadAsync(client, sessionKey!, cancellation) is { IsEmpty: false } state
                ? await SessionStore.FindTurnAsync(archive, sessionKey!, state, turnId, cancellation)
                : null;

        if (limiter.TryEnter(SessionKeys.OwnerOf(sessionKey!), options.Value.MaxStreamsPerCaller) is not { } lease)
        {
            request.HttpContext.Response.Headers.RetryAfter = "5";
            return ApiProblem.TooManyStreams(options.Value.MaxStreamsPerCaller).ToResult(request);
        }

        string? lastEventId = request.Headers[LastEventIdHeader];
        var events = new TurnEvents(streams, clock);
        return new SseResult(cancellation => events.ReadAsync(Read, sessionKey!, sessionId, lastEventId, cancellation), lease);
    }
}
