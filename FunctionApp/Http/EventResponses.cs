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
    /// <summary>A lease on one more event stream for the session's caller, or null when it has all it may hold.</summary>
    public IDisposable? Reserve(string sessionKey) => limiter.TryEnter(SessionKeys.OwnerOf(sessionKey), options.Value.MaxStreamsPerCaller);

    /// <summary>The answer to a caller past its open streams.</summary>
    public IActionResult TooManyStreams(HttpRequest request)
    {
        request.HttpContext.Response.Headers.RetryAfter = "5";
        return ApiProblem.TooManyStreams(options.Value.MaxStreamsPerCaller).ToResult(request);
    }

    /// <param name="reserved">A lease taken with <see cref="Reserve"/> before the turn was sent; without one, one is taken now.</param>
    public IActionResult OpenTurn(HttpRequest request, DurableTaskClient client, string sessionKey, string sessionId, string turnId, string? lastEventId, IDisposable? reserved = null)
    {
        async Task<TurnView?> Read(CancellationToken cancellation) =>
            await SessionStore.FindTurnOrRequestAsync(archive, sessionKey, await SessionStore.ReadAsync(client, sessionKey, cancellation), turnId, clock.GetUtcNow(), cancellation);

        var events = new TurnEvents(streams, clock);
        return Open(request, sessionKey, cancellation => events.ReadAsync(Read, sessionKey, sessionId, lastEventId, cancellation), reserved);
    }

    public IActionResult OpenSession(HttpRequest request, DurableTaskClient client, string sessionKey, string sessionId, string? lastEventId)
    {
        var events = new SessionEvents(streams, archive, clock);
        return Open(request, sessionKey, cancellation => events.ReadAsync(c => SessionStore.ReadAsync(client, sessionKey, c), sessionKey, sessionId, lastEventId, cancellation));
    }

    IActionResult Open(HttpRequest request, string sessionKey, Func<CancellationToken, IAsyncEnumerable<System.Net.ServerSentEvents.SseItem<string>>> events, IDisposable? reserved = null) =>
        (reserved ?? Reserve(sessionKey)) is { } lease ? new SseResult(events, lease) : TooManyStreams(request);
}
