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
        HttpRequest request, DurableTaskClient client, CallerResolver callers, ITranscriptArchive archive, string sessionId, string turnId)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return (null, null, ApiProblem.InvalidSessionId(sessionId));
        }

        if (!SessionIds.IsValid(turnId))
        {
            return (null, null, ApiProblem.InvalidTurnId(turnId));
        }

        var (sessionKey, denied) = await callers.SessionKeyAsync(request, sessionId);
        if (denied is not null)
        {
            return (null, null, denied);
        }

        var cancellation = request.HttpContext.RequestAborted;
        var (reached, state) = await SessionStore.TryReadAsync(client, sessionKey!, cancellation);
        if (!reached)
        {
            request.HttpContext.Response.Headers.RetryAfter = "1";
            return (null, null, ApiProblem.SessionUnavailable(sessionId));
        }

        if (state is null or { IsEmpty: true })
        {
            return (null, null, ApiProblem.SessionNotFound(sessionId));
        }

        return await SessionStore.FindTurnAsync(archive, sessionKey!, state, turnId, cancellation) is { } turn
            ? (turn, sessionKey, null)
            : (null, null, ApiProblem.TurnNotFound(sessionId, turnId));
    }
}
