using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using FunctionsChat.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Http;

/// <summary>A turn's status (attach to it later), and cancelling it.</summary>
public sealed class TurnFunctions(CallerResolver callers, ITranscriptArchive archive)
{
    [Function(nameof(GetTurn))]
    public Task<IActionResult> GetTurn(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = ChatRoutes.Turn)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId,
        string turnId) =>
        HttpSpan.TraceAsync(nameof(GetTurn), sessionId, () => GetTurnAsync(request, client, sessionId, turnId));

    async Task<IActionResult> GetTurnAsync(
        HttpRequest request,
        DurableTaskClient client,
        string sessionId,
        string turnId)
    {
        var (turn, _, problem) = await FindAsync(request, client, sessionId, turnId);
        return problem?.ToResult(request) ?? new OkObjectResult(TurnStatusView.From(sessionId, turn!));
    }

    [Function(nameof(CancelTurn))]
    public Task<IActionResult> CancelTurn(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = ChatRoutes.Turn)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId,
        string turnId) =>
        HttpSpan.TraceAsync(nameof(CancelTurn), sessionId, () => CancelTurnAsync(request, client, sessionId, turnId));

    async Task<IActionResult> CancelTurnAsync(
        HttpRequest request,
        DurableTaskClient client,
        string sessionId,
        string turnId)
    {
        var (turn, sessionKey, problem) = await FindAsync(request, client, sessionId, turnId);
        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        if (turn!.Status is not (TurnStatus.Queued or TurnStatus.Running))
        {
            return ApiProblem.TurnAlreadyFinished(turnId, turn.Status).ToResult(request);
        }

        await SessionStore.SignalAsync(client, sessionKey!, nameof(ChatSession.Cancel), new TurnCancellation(turnId), request.HttpContext.RequestAborted);
        string url = ChatRoutes.TurnUrl(sessionId, turnId);
        return new AcceptedResult(url, new AcceptedView(sessionId, turnId, url));
    }

    Task<(TurnView? Turn, string? SessionKey, ApiProblem? Problem)> FindAsync(HttpRequest request, DurableTaskClient client, string sessionId, string turnId) =>
        TurnLookup.FindAsync(request, client, callers, archive, sessionId, turnId);
}
