using FunctionsChat.Archive;
using FunctionsChat.Domain;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>
/// Answers a request with server-sent events read from committed state and the answers' streams: a turn's
/// (<see cref="TurnEvents"/>) or a whole session's (<see cref="SessionEvents"/>), within the caller's allowance of open
/// streams: 429 <c>too-many-streams</c> past it.
/// </summary>
public sealed class EventResponses(ITurnStreams streams, ITranscriptArchive archive, TimeProvider clock, StreamLimiter limiter, IOptions<ApiOptions> options)
{
    public IActionResult OpenTurn(HttpRequest request, DurableTaskClient client, string sessionKey, string sessionId, string turnId, string? lastEventId)
    {
        async Task<TurnView?> Read(CancellationToken cancellation) =>
            await SessionStore.ReadAsync(client, sessionKey, cancellation) is { IsEmpty: false } state
                ? await SessionStore.FindTurnAsync(archive, sessionKey, state, turnId, cancellation)
                : null;

        var events = new TurnEvents(streams, clock);
        return Open(request, sessionKey, cancellation => events.ReadAsync(Read, sessionKey, sessionId, lastEventId, cancellation));
    }

    public IActionResult OpenSession(HttpRequest request, DurableTaskClient client, string sessionKey, string sessionId, string? lastEventId)
    {
        var events = new SessionEvents(streams, archive, clock);
        return Open(request, sessionKey, cancellation => events.ReadAsync(c => SessionStore.ReadAsync(client, sessionKey, c), sessionKey, sessionId, lastEventId, cancellation));
    }

    IActionResult Open(HttpRequest request, string sessionKey, Func<CancellationToken, IAsyncEnumerable<System.Net.ServerSentEvents.SseItem<string>>> events)
    {
        if (limiter.TryEnter(SessionKeys.OwnerOf(sessionKey), options.Value.MaxStreamsPerCaller) is not { } lease)
        {
            request.HttpContext.Response.Headers.RetryAfter = "5";
            return ApiProblem.TooManyStreams(options.Value.MaxStreamsPerCaller).ToResult(request);
        }

        return new SseResult(events, lease);
    }
}
