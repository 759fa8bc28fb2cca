namespace FunctionsChat.Domain;

/// <summary>
/// Every way a request can be refused, each with its HTTP status and a stable <c>type</c> URI (RFC 9457).
/// A refused request changes nothing.
/// </summary>
public sealed record ApiProblem(int Status, string Type, string Title, string Detail)
{
    const string Base = "urn:functionschat:problem:";

    public static ApiProblem InvalidSessionId(string? id) => new(400, Base + "invalid-session-id", "The session id is not valid.",
        $"A session id is 1 to {SessionIds.MaxLength} characters of A-Z, a-z, 0-9, '.', '_', '~' and '-'; got '{Shorten(id)}'.");

    public static ApiProblem InvalidTurnId(string? id) => new(400, Base + "invalid-turn-id", "The turn id or Idempotency-Key is not valid.",
        $"A turn id is 1 to {SessionIds.MaxLength} characters of A-Z, a-z, 0-9, '.', '_', '~' and '-'; got '{Shorten(id)}'.");

    public static ApiProblem UnsupportedMediaType(string? contentType) => new(415, Base + "unsupported-media-type", "The body must be JSON.",
        $"Send the body as application/json; got '{Shorten(contentType) ?? "no content type"}'.");

    public static ApiProblem TooManyStreams(int max) => new(429, Base + "too-many-streams", "Too many event streams are open.",
        $"A caller may follow at most {max} event streams at once; close one, or retry later.");

    public static ApiProblem InvalidJson(string reason) => new(400, Base + "invalid-json", "The body is not valid JSON.", reason);

    public static ApiProblem MissingMessage() => new(400, Base + "missing-message", "The body has no message.",
        "Send a JSON object with a string property 'message', for example {\"message\": \"Hello\"}.");

    public static ApiProblem EmptyMessage() => new(400, Base + "empty-message", "The message is empty.",
        "The message must contain at least one character that is not white space.");

    public static ApiProblem MessageTooLarge(int maxBytes) => new(413, Base + "message-too-large", "The message is too large.",
        $"A message may hold at most {maxBytes} bytes of UTF-8.");

    public static ApiProblem IdempotencyKeyReused(string turnId) => new(422, Base + "idempotency-key-reused", "The Idempotency-Key was used for another message.",
        $"Turn '{turnId}' already exists with a different message; use a new key for a new message.");

    public static ApiProblem SessionUnavailable(string sessionId) => new(503, Base + "session-unavailable", "The session could not be reached.",
        $"Session '{sessionId}' could not be read or sent to just now; nothing was changed that a repeat would change twice. Repeat the request after the Retry-After.");

    public static ApiProblem SessionsUnavailable() => new(503, Base + "sessions-unavailable", "The sessions could not be listed.",
        "The task hub could not be queried just now. Repeat the request after the Retry-After.");

    public static ApiProblem UsageUnavailable() => new(503, Base + "usage-unavailable", "Your use could not be read.",
        "The caller's quota could not be read just now. Repeat the request after the Retry-After.");

    public static ApiProblem NotConfirmed(string turnId) => new(503, Base + "not-confirmed", "The session has not confirmed the message yet.",
        $"The message was sent to the session as turn '{turnId}' but not confirmed in time. Repeat the request with the header Idempotency-Key: {turnId}; it is never taken twice.");

    public static ApiProblem SessionDeleted(string sessionId, string turnId) => new(409, Base + "session-deleted", "The session was deleted before the message was answered.",
        $"A delete of session '{sessionId}' took turn '{turnId}' with it (before or after the session queued it); nothing of it is kept. Send it again to start a new conversation.");

    public static ApiProblem MethodNotAllowed(string method, IReadOnlyList<string> allowed) => new(405, Base + "method-not-allowed", "The route does not serve this method.",
        $"{Shorten(method)} is not served here; use {string.Join(" or ", allowed)}.");

    public static ApiProblem IncompleteBody(string reason) => new(400, Base + "incomplete-body", "The body could not be read to its end.", reason);

    public static ApiProblem SessionNotFound(string sessionId) => new(404, Base + "session-not-found", "The session does not exist.",
        $"There is no session '{sessionId}'.");

    public static ApiProblem TurnNotFound(string sessionId, string turnId) => new(404, Base + "turn-not-found", "The turn does not exist.",
        $"Session '{sessionId}' has no turn '{turnId}'.");

    public static ApiProblem TurnAlreadyFinished(string turnId, TurnStatus status) => new(409, Base + "turn-finished", "The turn has already finished.",
        $"Turn '{turnId}' is {status.ToString().ToLowerInvariant()} and can no longer be cancelled.");

    public static ApiProblem TurnCancelled(string turnId) => new(409, Base + "turn-cancelled", "The turn was cancelled.",
        $"Turn '{turnId}' was cancelled before it was answered.");

    /// <summary>A call's turn was stopped before it was answered: cancelled, or taken over by a later message.</summary>
    public static ApiProblem TurnStopped(string turnId, TurnStatus status) => status switch
    {
        TurnStatus.Interrupted => new(409, Base + "turn-interrupted", "The turn was interrupted by a later message.",
            $"Turn '{turnId}' was stopped by a message sent with the interrupt strategy; its partial answer is in the history and the model sees it."),
        TurnStatus.RolledBack => new(409, Base + "turn-rolled-back", "The turn was rolled back by a later message.",
            $"Turn '{turnId}' was stopped by a message sent with the rollback strategy; it stays in the history, and the model no longer sees it."),
        _ => TurnCancelled(turnId),
    };

    public static ApiProblem TurnNotFinished(string turnId) => new(409, Base + "turn-not-finished", "The turn has not finished.",
        $"Turn '{turnId}' is queued or running: only a finished turn can be regenerated, edited or forked from. Wait for it, or cancel it.");

    public static ApiProblem TurnNotOnBranch(string turnId) => new(409, Base + "turn-not-on-branch", "The turn is not on the branch the conversation follows.",
        $"Turn '{turnId}' is on another branch: switch to it first (PUT /Chat/{{sessionId}}/branch with its turn id), then regenerate or edit it.");

    public static ApiProblem TurnHasLaterTurns(string turnId) => new(409, Base + "turn-has-later-turns", "The turn has later turns.",
        $"Turn '{turnId}' is not the newest of its branch. Regenerating it leaves the turns after it on their branch, out of the conversation the model sees; send {{\"later\": true}} to do so.");

    public static ApiProblem TooManyBranches(int max) => new(409, Base + "too-many-branches", "The session has as many branches as it may hold.",
        $"A session holds at most {max} branches (Session__MaxBranches); fork the conversation into a new session to go on branching.");

    public static ApiProblem SessionExists(string sessionId) => new(409, Base + "session-exists", "The session already exists.",
        $"Session '{sessionId}' already holds a conversation; fork into a new session id (or delete it first).");

    public static ApiProblem MissingField(string name, string example) => new(400, Base + "missing-field", $"The body has no '{name}'.",
        $"Send a JSON object with a string property '{name}', for example {example}.");

    /// <summary>A caller past a fair-use limit (<see cref="CallerQuotaRules"/>): nothing was stored.</summary>
    public static ApiProblem QuotaExceeded(QuotaRefusal refusal, QuotaLimits limits) => refusal.Limit switch
    {
        CallerQuotaRules.MessageRate => new(429, Base + "message-rate-limited", "Too many messages this minute.",
            $"A caller may have {limits.MessagesPerMinute} messages accepted in any minute, across all their sessions; nothing was stored. Try again after the Retry-After."),
        CallerQuotaRules.RunningTurns => new(429, Base + "running-turns-limited", "Too many sessions are waiting to run a turn.",
            $"A caller may run {limits.RunningTurns} turns at once; {CallerSlotRules.MaxWaiting} of their other sessions already wait for one, so nothing was stored. Try again after the Retry-After, or send to a session that is already waiting."),
        _ => new(429, Base + "token-budget-exhausted", "The model token budget is used up.",
            $"A caller may use {limits.TokensPerPeriod} model tokens in any {limits.TokenPeriod}, across all their sessions; nothing was stored. Try again after the Retry-After."),
    };

    public static ApiProblem AssetNotFound(string name) => new(404, Base + "not-found", "There is no such page.",
        $"The page has no file '{Shorten(name)}'.");

    public static ApiProblem TurnInProgress(string turnId) => new(409, Base + "turn-in-progress", "A turn is already in progress.",
        $"The message for turn '{turnId}' was sent with the reject strategy while a turn was running or queued; nothing was stored. Send it again later, or with another strategy.");

    public static ApiProblem InvalidMultitaskStrategy(string? value) => new(400, Base + "invalid-multitask-strategy", "The multitask strategy is not valid.",
        $"'multitask_strategy' must be one of {string.Join(", ", MultitaskStrategies.Names)}; got {Shorten(value) ?? "a value that is not a string"}.");

    public static ApiProblem Unauthorized(string detail) => new(401, Base + "unauthorized", "The caller is not authenticated.", detail);

    public static ApiProblem InvalidQuery(string name, string reason) => new(400, Base + "invalid-query", $"The query parameter '{name}' is not valid.", reason);

    /// <summary>A turn that failed: 504 when it ran out of time, 429 when the queue was full, 502 for a model failure.</summary>
    public static ApiProblem TurnFailed(string turnId, string? code, string? message) => code switch
    {
        ErrorCodes.TurnExpired => new(504, Base + "turn-expired", "The turn did not finish in time.", Describe(turnId, code, message)),
        ErrorCodes.QueueFull => new(429, Base + "session-busy", "The session has too many turns waiting.", Describe(turnId, code, message)),
        ErrorCodes.TurnInProgress => TurnInProgress(turnId),
        _ => new(502, Base + "turn-failed", "The model could not answer this turn.", Describe(turnId, code, message)),
    };

    static string Describe(string turnId, string? code, string? message) => $"Turn '{turnId}' failed with {code}: {message}";

    static string? Shorten(string? text) => text is { Length: > 140 } ? text[..140] + "…" : text;
}
