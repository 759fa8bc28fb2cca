using FunctionsChat.Archive;
using FunctionsChat.Domain;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>
/// Answers a request with a turn's events (<see cref="TurnEvents"/>) read from committed state and its stream, within
/// the caller's allowance of open streams: 429 <c>too-many-streams</c> past it.
/// </summary>
public sealed class TurnEventResponses(ITurnStreams streams, ITranscriptArchive archive, TimeProvider clock, StreamLimiter limiter, IOptions<ApiOptions> options)
{
    public IActionResult Open(HttpRequest request, DurableTaskClient client, string sessionKey, string sessionId, string turnId, string? lastEventId)
    {
        if (limiter.TryEnter(SessionKeys.OwnerOf(sessionKey), options.Value.MaxStreamsPerCaller) is not { } lease)
        {
            request.HttpContext.Response.Headers.RetryAfter = "5";
            return ApiProblem.TooManyStreams(options.Value.MaxStreamsPerCaller).ToResult(request);
        }

        async Task<TurnView?> Read(CancellationToken cancellation) =>
            await SessionStore.ReadAsync(client, sessionKey, cancellation) is { IsEmpty: false } state
                ? await SessionStore.FindTurnAsync(archive, sessionKey, state, turnId, cancellation)
                : null;

        var events = new TurnEvents(streams, clock);
        return new SseResult(cancellation => events.ReadAsync(Read, sessionKey, sessionId, lastEventId, cancellation), lease);
    }
}
