using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Http;

/// <summary>The turn a request names, for the caller: checked ids, the caller's session, and the turn from state or archive.</summary>
public static class TurnLookup
{
    public static async Task<(TurnView? Turn, string? SessionKey, ApiProblem? Problem)> FindAsync(
        HttpRequest request, DurableTaskClient client, CallerResolver callers, ITranscriptArchive archive, TimeProvider clock, string sessionId, string turnId)
    {
        var (turn, _, sessionKey, problem) = await FindWithStateAsync(request, client, callers, archive, clock, sessionId, turnId);
        return (turn, sessionKey, problem);
    }

    /// <summary>As <see cref="FindAsync"/>, with the session's state as read.</summary>
    public static async Task<(TurnView? Turn, ChatSessionState? State, string? SessionKey, ApiProblem? Problem)> FindWithStateAsync(
        HttpRequest request, DurableTaskClient client, CallerResolver callers, ITranscriptArchive archive, TimeProvider clock, string sessionId, string turnId)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return (null, null, null, ApiProblem.InvalidSessionId(sessionId));
        }

        if (!SessionIds.IsValid(turnId))
        {
            return (null, null, null, ApiProblem.InvalidTurnId(turnId));
        }

        var (sessionKey, denied) = await callers.SessionKeyAsync(request, sessionId);
        if (denied is not null)
        {
            return (null, null, null, denied);
        }

        var cancellation = request.HttpContext.RequestAborted;
        var (reached, state) = await SessionStore.TryReadAsync(client, sessionKey!, cancellation);
        if (!reached)
        {
            request.HttpContext.Response.Headers.RetryAfter = "1";
            return (null, null, null, ApiProblem.SessionUnavailable(sessionId));
        }

        if (await SessionStore.FindTurnOrRequestAsync(archive, sessionKey!, state, turnId, clock.GetUtcNow(), cancellation) is { } turn)
        {
            return (turn, state, sessionKey, null);
        }

        return state is null or { IsEmpty: true }
            ? (null, state, null, ApiProblem.SessionNotFound(sessionId))
            : (null, state, null, ApiProblem.TurnNotFound(sessionId, turnId));
    }
}
