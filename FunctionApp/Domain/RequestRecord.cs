namespace FunctionsChat.Domain;

/// <summary>
/// The API's record of a request it accepted, stored in the session's table with the request's words in one
/// transaction before the session is signalled: the first message stored under a key holds it (a rival message is
/// refused before anything of it is stored), and a turn the session has not taken yet is found by its id.
/// </summary>
/// <param name="ETag">The stored row's version, so only the record read can be replaced.</param>
public sealed record RequestRecord(string TurnId, string MessageHash, DateTimeOffset AcceptedAt, string MessageRef, string? ETag = null)
{
    /// <summary>Row keys of request records start with <c>r</c>: after every turn row, the summary row and the stored texts' <c>x</c>.</summary>
    public const string Prefix = "r";

    public static string Key(string turnId) => Prefix + turnId;

    public static RequestRecord Of(TurnRequest request) =>
        new(request.TurnId, request.MessageHash, request.AcceptedAt, request.MessageRef ?? TextKeys.Message(request.AcceptedAt, request.MessageHash));

    /// <summary>The request as the session judges it: its id, fingerprint and moment of acceptance.</summary>
    public TurnRequest AsRequest(string sessionId) => new(sessionId, TurnId, "", AcceptedAt) { MessageHash = MessageHash, MessageRef = MessageRef };

    /// <summary>
    /// A turn as a client sees it before the session has taken it: queued, at no known place, while a copy of its
    /// signal can still arrive and no delete since has dropped it; null otherwise.
    /// </summary>
    public TurnView? Pending(ChatSessionState? state, DateTimeOffset now, SessionLimits limits) =>
        state?.DeletedAt >= AcceptedAt || now - AcceptedAt > limits.RedeliveryHorizon
            ? null
            : new TurnView(TurnId, 0, TurnStatus.Queued, MessageHash, null, null) { AcceptedAt = AcceptedAt };
}
