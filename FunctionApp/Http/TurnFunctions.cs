using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Http;

/// <summary>A turn's status (attach to it later), and cancelling it.</summary>
public static class TurnFunctions
{
    [Function(nameof(GetTurn))]
    public static async Task<IActionResult> GetTurn(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = ChatRoutes.Turn)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId,
        string turnId)
    {
        var (turn, problem) = await FindAsync(request, client, sessionId, turnId);
        return problem?.ToResult(request) ?? new OkObjectResult(TurnStatusView.From(sessionId, turn!));
    }

    [Function(nameof(CancelTurn))]
    public static async Task<IActionResult> CancelTurn(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = ChatRoutes.Turn)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId,
        string turnId)
    {
        var (turn, problem) = await FindAsync(request, client, sessionId, turnId);
        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        if (turn!.Status is not (TurnStatus.Queued or TurnStatus.Running))
        {
            return ApiProblem.TurnAlreadyFinished(turnId, turn.Status).ToResult(request);
        }

        await SessionStore.SignalAsync(client, sessionId, nameof(ChatSession.Cancel), new TurnCancellation(turnId), request.HttpContext.RequestAborted);
        string url = ChatRoutes.TurnUrl(sessionId, turnId);
        return new AcceptedResult(url, new AcceptedView(sessionId, turnId, url));
    }

    static async Task<(TurnView? Turn, ApiProblem? Problem)> FindAsync(HttpRequest request, DurableTaskClient client, string sessionId, string turnId)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return (null, ApiProblem.InvalidSessionId(sessionId));
        }

        if (!SessionIds.IsValid(turnId))
        {
            return (null, ApiProblem.InvalidTurnId(turnId));
        }

        var state = await SessionStore.ReadAsync(client, sessionId, request.HttpContext.RequestAborted);
        if (state is null or { IsEmpty: true })
        {
            return (null, ApiProblem.SessionNotFound(sessionId));
        }

        return SessionQueries.FindTurn(state, turnId) is { } turn ? (turn, null) : (null, ApiProblem.TurnNotFound(sessionId, turnId));
    }
}
