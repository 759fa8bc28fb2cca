using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Http;

/// <summary>
/// A whole session followed live as server-sent events (<see cref="SessionEvents"/>), for every window open on it;
/// resumable with <c>Last-Event-ID</c>, or the <c>lastEventId</c> query parameter where a client cannot set headers.
/// </summary>
public sealed class SessionEventFunctions(CallerResolver callers, EventResponses events)
{
    public const string LastEventIdQuery = "lastEventId";

    [Function(nameof(SessionEvents))]
    public Task<IActionResult> SessionEvents(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = ChatRoutes.Events)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId) =>
        HttpSpan.TraceAsync(nameof(SessionEvents), sessionId, () => OpenAsync(request, client, sessionId));

    async Task<IActionResult> OpenAsync(HttpRequest request, DurableTaskClient client, string sessionId)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return ApiProblem.InvalidSessionId(sessionId).ToResult(request);
        }

        var (sessionKey, denied) = await callers.SessionKeyAsync(request, sessionId);
        if (denied is not null)
        {
            return denied.ToResult(request);
        }

        // A session with no life yet is followed too: a window opens on it before its first message.
        string? lastEventId = request.Headers[TurnStreamFunctions.LastEventIdHeader].FirstOrDefault() ?? request.Query[LastEventIdQuery].FirstOrDefault();
        return events.OpenSession(request, client, sessionKey!, sessionId, lastEventId);
    }
}
