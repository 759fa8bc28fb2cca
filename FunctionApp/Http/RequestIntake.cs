using FunctionsChat.Archive;
using FunctionsChat.Domain;

namespace FunctionsChat.Http;

/// <summary>
/// Stores a request before its signal: its words and its record in one transaction, the record holding its key. The
/// first message stored under a key holds it for as long as the session may still take it; a rival message learns
/// 422 before anything of it is stored or sent, so every signal the session gets under a key names one message.
/// </summary>
public static class RequestIntake
{
    const int Attempts = 3;

    /// <summary>
    /// The request to signal: this one, stored; or, when an earlier attempt of the same message holds the key, that
    /// attempt (its moment and stored words), so a retry is the same request to the session. Null: another message
    /// holds the key. A record the session refused, or a delete dropped, no longer holds it and is replaced.
    /// </summary>
    /// <param name="state">The session as read before, when it could be: how the holder's request stands.</param>
    public static async Task<TurnRequest?> StoreAsync(ITranscriptArchive archive, string sessionKey, ChatSessionState? state, TurnRequest turn, string message, CancellationToken cancellation)
    {
        RequestRecord? replacing = null;
        for (int attempt = 1; ; attempt++)
        {
            var held = await archive.StoreRequestAsync(sessionKey, RequestRecord.Of(turn), message, replacing, cancellation);
            if (held is null)
            {
                if (replacing is not null && replacing.MessageRef != turn.MessageRef)
                {
                    // The words of a refused or dropped request: the session will never take them.
                    await archive.DeleteTextAsync(sessionKey, replacing.MessageRef, cancellation);
                }

                return turn;
            }

            if (Holds(state, held.AsRequest(turn.SessionId), turn.AcceptedAt))
            {
                return held.MessageHash == turn.MessageHash ? turn with { AcceptedAt = held.AcceptedAt, MessageRef = held.MessageRef } : null;
            }

            if (attempt == Attempts)
            {
                throw new InvalidOperationException($"The key '{turn.TurnId}' changed hands {Attempts} times while the request was stored.");
            }

            replacing = held;
        }
    }

    /// <summary>
    /// Whether an earlier attempt of this very message already holds the key: a retry of a request already accepted,
    /// which a limit reached since must not refuse (its first attempt goes on regardless).
    /// </summary>
    /// <returns>False too when the record could not be read: the request is then judged as a new one.</returns>
    public static async Task<bool> IsHeldAsync(ITranscriptArchive archive, string sessionKey, ChatSessionState? state, TurnRequest turn, CancellationToken cancellation)
    {
        try
        {
            return await archive.ReadRequestAsync(sessionKey, turn.TurnId, cancellation) is { } held
                && held.MessageHash == turn.MessageHash
                && Holds(state, held.AsRequest(turn.SessionId), turn.AcceptedAt);
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether a stored request still holds its key: the session took it, or may still (a copy of its signal can
    /// arrive within the redelivery horizon); not when the session refused it or a delete dropped it.
    /// </summary>
    static bool Holds(ChatSessionState? state, TurnRequest held, DateTimeOffset now) => SessionQueries.ReceiptOf(state, held).Status switch
    {
        ReceiptStatus.Refused or ReceiptStatus.Dropped => false,
        ReceiptStatus.Unseen => now - held.AcceptedAt <= SessionLimits.Default.RedeliveryHorizon,
        _ => true,
    };
}
