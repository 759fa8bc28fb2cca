using System.Globalization;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using FunctionsChat.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>Ending a session, and listing sessions.</summary>
public sealed class SessionFunctions(IOptions<ApiOptions> options, CallerResolver callers, TurnWaiter waiter, TimeProvider clock)
{
    [Function(nameof(DeleteSession))]
    public Task<IActionResult> DeleteSession(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = ChatRoutes.Session)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId) =>
        HttpSpan.TraceAsync(nameof(DeleteSession), sessionId, () => DeleteSessionAsync(request, client, sessionId));

    async Task<IActionResult> DeleteSessionAsync(
        HttpRequest request,
        DurableTaskClient client,
        string sessionId)
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

        // Stamped here, so requests accepted before it (still in flight) are dropped and a redelivered copy of this
        // delete cannot end a later life of the session.
        var deletion = new SessionDeletion(clock.GetUtcNow());
        var cancellation = request.HttpContext.RequestAborted;
        if (!await SessionStore.TrySignalAsync(client, sessionKey!, nameof(ChatSession.Delete), deletion, cancellation))
        {
            return cancellation.IsCancellationRequested ? new EmptyResult() : SessionStore.Unavailable(request, sessionId);
        }

        ChatSessionState? state;
        try
        {
            state = await waiter.UntilAsync(c => SessionStore.ReadAsync(client, sessionKey!, c), s => IsDeleted(s, deletion), options.Value.CallTimeout, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return new EmptyResult();
        }
        catch (Exception)
        {
            // The delete is on its way (a signal is delivered at least once); only its confirmation could not be read.
            return new AcceptedResult(ChatRoutes.HistoryUrl(sessionId), null);
        }

        // 204 once the delete has happened; 202 if it is still on its way when the bound passes (poll getHistory for 404).
        return IsDeleted(state, deletion) ? new NoContentResult() : new AcceptedResult(ChatRoutes.HistoryUrl(sessionId), null);
    }

    static bool IsDeleted(ChatSessionState? state, SessionDeletion deletion) =>
        state is null || state.IsVoid || state.DeletedAt >= deletion.RequestedAt || state.BornAt > deletion.RequestedAt;

    [Function(nameof(ListSessions))]
    public Task<IActionResult> ListSessions(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = ChatRoutes.Sessions)] HttpRequest request,
        [DurableClient] DurableTaskClient client) =>
        HttpSpan.TraceAsync(nameof(ListSessions), "", () => ListSessionsAsync(request, client));

    async Task<IActionResult> ListSessionsAsync(
        HttpRequest request,
        DurableTaskClient client)
    {
        var (caller, denied) = await callers.IdentifyAsync(request);
        if (denied is not null)
        {
            return denied.ToResult(request);
        }

        int maxPageSize = options.Value.MaxPageSize;
        int pageSize = maxPageSize;
        string? size = request.Query["pageSize"];
        if (size is not null && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > maxPageSize))
        {
            return ApiProblem.InvalidQuery("pageSize", $"pageSize is a whole number from 1 to {maxPageSize}.").ToResult(request);
        }

        // Only the caller's own sessions: a prefix query, not a filter over everyone's.
        string scope = SessionEntityIds.QueryPrefix + SessionKeys.Prefix(caller!);
        string? token = null;
        if (request.Query["continuationToken"].ToString() is { Length: > 0 } given && !ListingCursor.TryOpen(given, scope, out token))
        {
            return ApiProblem.InvalidQuery("continuationToken", "continuationToken is not one this API handed out for your sessions; start again without it.").ToResult(request);
        }

        var query = new EntityQuery
        {
            InstanceIdStartsWith = scope,
            IncludeState = true,
            PageSize = pageSize,
            ContinuationToken = token,
        };

        var pages = client.Entities.GetAllEntitiesAsync<ChatSessionState>(query).AsPages(token, pageSize);
        var cancellation = request.HttpContext.RequestAborted;
        try
        {
            await foreach (var page in pages.WithCancellation(cancellation))
            {
                // Deleted (a tombstone) and empty sessions hold no conversation: they are not listed.
                var sessions = page.Values
                    .Where(e => e.IncludesState && e.State is { IsEmpty: false })
                    .Select(e => new SessionSummaryView(e.State.SessionId, e.State.Turns.Count, e.State.LastActivityAt))
                    .ToArray();
                string? next = page.ContinuationToken is { Length: > 0 } more ? ListingCursor.Seal(more, scope) : null;
                return new OkObjectResult(new SessionPageView(sessions, next));
            }
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            request.HttpContext.Response.Headers.RetryAfter = "1";
            return ApiProblem.SessionsUnavailable().ToResult(request);
        }

        return new OkObjectResult(new SessionPageView([], null));
    }
}
