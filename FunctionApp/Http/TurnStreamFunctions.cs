using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Http;

/// <summary>A turn followed live as server-sent events (<see cref="TurnEvents"/>), resumable with <c>Last-Event-ID</c>.</summary>
public sealed class TurnStreamFunctions(CallerResolver callers, ITranscriptArchive archive, TimeProvider clock, EventResponses events)
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
        var (_, sessionKey, problem) = await TurnLookup.FindAsync(request, client, callers, archive, clock, sessionId, turnId);
        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        return events.OpenTurn(request, client, sessionKey!, sessionId, turnId, request.Headers[LastEventIdHeader]);
    }
}
