using System.Globalization;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>Ending a session, and listing sessions.</summary>
public sealed class SessionFunctions(IOptions<ApiOptions> options)
{
    [Function(nameof(DeleteSession))]
    public static async Task<IActionResult> DeleteSession(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = ChatRoutes.Session)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return ApiProblem.InvalidSessionId(sessionId).ToResult(request);
        }

        await SessionStore.SignalAsync(client, sessionId, nameof(ChatSession.Delete), input: null, request.HttpContext.RequestAborted);
        return new NoContentResult();
    }

    [Function(nameof(ListSessions))]
    public async Task<IActionResult> ListSessions(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = ChatRoutes.Sessions)] HttpRequest request,
        [DurableClient] DurableTaskClient client)
    {
        int maxPageSize = options.Value.MaxPageSize;
        int pageSize = maxPageSize;
        string? size = request.Query["pageSize"];
        if (size is not null && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > maxPageSize))
        {
            return ApiProblem.InvalidQuery("pageSize", $"pageSize is a whole number from 1 to {maxPageSize}.").ToResult(request);
        }

        string? token = request.Query["continuationToken"];
        var query = new EntityQuery
        {
            InstanceIdStartsWith = SessionEntityIds.QueryPrefix,
            IncludeState = true,
            PageSize = pageSize,
            ContinuationToken = token,
        };

        var pages = client.Entities.GetAllEntitiesAsync<ChatSessionState>(query).AsPages(token, pageSize);
        await foreach (var page in pages.WithCancellation(request.HttpContext.RequestAborted))
        {
            var sessions = page.Values
                .Where(e => e.IncludesState && e.State is { IsEmpty: false })
                .Select(e => new SessionSummaryView(e.State.SessionId, e.State.Turns.Count, e.State.LastActivityAt))
                .ToArray();
            return new OkObjectResult(new SessionPageView(sessions, page.ContinuationToken));
        }

        return new OkObjectResult(new SessionPageView([], null));
    }
}
