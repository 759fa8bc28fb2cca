using FunctionsChat.Domain;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Http;

/// <summary>The shared read: committed entity state, answered at once even while a turn runs.</summary>
public static class HistoryFunctions
{
    [Function(nameof(GetHistory))]
    public static async Task<IActionResult> GetHistory(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = ChatRoutes.History)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return ApiProblem.InvalidSessionId(sessionId).ToResult(request);
        }

        var state = await SessionStore.ReadAsync(client, sessionId, request.HttpContext.RequestAborted);
        return state is null or { IsEmpty: true }
            ? ApiProblem.SessionNotFound(sessionId).ToResult(request)
            : new OkObjectResult(HistoryView.From(sessionId, state));
    }
}
