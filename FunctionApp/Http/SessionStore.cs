using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Http;

/// <summary>What the HTTP functions do to sessions: read committed state (never queued behind a turn) and signal.</summary>
public static class SessionStore
{
    public static async Task<ChatSessionState?> ReadAsync(DurableTaskClient client, string sessionKey, CancellationToken cancellation)
    {
        var entity = await client.Entities.GetEntityAsync<ChatSessionState>(SessionEntityIds.For(sessionKey), includeState: true, cancellation);
        return entity?.State;
    }

    /// <summary>Reads the session; not reached when the Durable client failed or timed out (the caller may try again).</summary>
    public static async Task<(bool Reached, ChatSessionState? State)> TryReadAsync(DurableTaskClient client, string sessionKey, CancellationToken cancellation)
    {
        try
        {
            return (true, await ReadAsync(client, sessionKey, cancellation));
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            return (false, null);
        }
    }

    /// <summary>
    /// A turn as a client sees it: from the committed state or, when it left the working set recently (the archived-id
    /// window), from the archive, so a turn archived right after it finished still answers.
    /// </summary>
    public static async Task<TurnView?> FindTurnAsync(ITranscriptArchive archive, string sessionKey, ChatSessionState state, string turnId, CancellationToken cancellation)
    {
        if (SessionQueries.FindOutcome(state, turnId) is { } turn)
        {
            return await WithWordsAsync(archive, sessionKey, turn, cancellation);
        }

        if (SessionQueries.ArchivedPlace(state, turnId) is not { } place)
        {
            return null;
        }

        var page = await archive.ReadBeforeAsync(sessionKey, place.Before, place.Count, cancellation);
        return page.LastOrDefault(t => t.TurnId == turnId) is { } archived
            ? new TurnView(turnId, archived.Sequence, archived.Status, archived.MessageHash, null, archived) { AcceptedAt = archived.AcceptedAt, Branch = archived.Branch }
            : null;
    }

    /// <summary>
    /// A turn as a client sees it (<see cref="FindTurnAsync"/>) or, before the session has taken it, as the API stored
    /// its request: queued, so the Location of a 202 answers at once however slowly the signal travels.
    /// </summary>
    /// <param name="state">The session as read; null when it has never held anything.</param>
    public static async Task<TurnView?> FindTurnOrRequestAsync(ITranscriptArchive archive, string sessionKey, ChatSessionState? state, string turnId, DateTimeOffset now, CancellationToken cancellation)
    {
        if (state is not null && await FindTurnAsync(archive, sessionKey, state, turnId, cancellation) is { } turn)
        {
            return turn;
        }

        return (await archive.ReadRequestAsync(sessionKey, turnId, cancellation))?.Pending(state, now, SessionLimits.Default);
    }

    /// <summary>The turn with its words read back where the state holds them only by key.</summary>
    public static async Task<TurnView> WithWordsAsync(ITranscriptArchive archive, string sessionKey, TurnView turn, CancellationToken cancellation) =>
        turn.Finished is { } finished ? turn with { Finished = await StoredTexts.FillAsync(archive, sessionKey, finished, cancellation) } : turn;

    public static Task SignalAsync(DurableTaskClient client, string sessionKey, string operation, object? input, CancellationToken cancellation) =>
        client.Entities.SignalEntityAsync(SessionEntityIds.For(sessionKey), operation, input, options: null, cancellation);

    /// <summary>
    /// Signals the session; false when the Durable client failed, so the signal may or may not be on its way. Only
    /// operations that are safe to repeat are sent this way (a delete stamped once, a cancel by turn id).
    /// </summary>
    public static async Task<bool> TrySignalAsync(DurableTaskClient client, string sessionKey, string operation, object? input, CancellationToken cancellation)
    {
        try
        {
            await SignalAsync(client, sessionKey, operation, input, cancellation);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>The answer when the session could not be read or sent to: repeat after a second.</summary>
    public static IActionResult Unavailable(HttpRequest request, string sessionId)
    {
        request.HttpContext.Response.Headers.RetryAfter = "1";
        return ApiProblem.SessionUnavailable(sessionId).ToResult(request);
    }
}
