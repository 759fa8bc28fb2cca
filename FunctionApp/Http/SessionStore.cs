using FunctionsChat.Domain;
using FunctionsChat.Sessions;
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

    public static Task SignalAsync(DurableTaskClient client, string sessionKey, string operation, object? input, CancellationToken cancellation) =>
        client.Entities.SignalEntityAsync(SessionEntityIds.For(sessionKey), operation, input, options: null, cancellation);
}
