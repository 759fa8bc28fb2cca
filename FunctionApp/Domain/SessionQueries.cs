namespace FunctionsChat.Domain;

/// <summary>A turn as a client sees it; <see cref="Position"/> counts from 1 for queued turns.</summary>
public sealed record TurnView(string TurnId, long Sequence, TurnStatus Status, string MessageHash, int? Position, TranscriptTurn? Finished)
{
    /// <summary>When the API accepted the turn: where its stream is kept (<see cref="StreamKeys"/>).</summary>
    public DateTimeOffset AcceptedAt { get; init; }

    /// <summary>The branch line the turn is on (<see cref="Branches"/>).</summary>
    public long Branch { get; init; }

    public bool IsFinished => Status is TurnStatus.Completed or TurnStatus.Failed or TurnStatus.Cancelled or TurnStatus.Interrupted or TurnStatus.RolledBack;
}

/// <summary>What became of a request; <see cref="Turn"/> is the turn as a client sees it, when the session still holds it.</summary>
public sealed record Receipt(ReceiptStatus Status, TurnView? Turn)
{
    /// <summary>The session has decided about the request: it will not change its mind.</summary>
    public bool IsSettled => Status != ReceiptStatus.Unseen;
}

public enum ReceiptStatus
{
    Unseen,
    Taken,
    Conflict,
    Refused,
    Dropped,
}

/// <summary>Reads over a session state; none of them changes it.</summary>
public static class SessionQueries
{
    /// <summary>The message fingerprint of a turn the session knows: in its working set or archived recently.</summary>
    public static string? FindMessageHash(ChatSessionState state, string turnId) =>
        FindTurn(state, turnId)?.MessageHash ?? state.ArchivedIds.LastOrDefault(k => k.TurnId == turnId)?.MessageHash;

    /// <summary>
    /// Where the archive keeps a turn that left the working set recently (the last archived-id window): its sequence,
    /// or, for an id recorded before sequences were kept, the archive's end to search back from. Null if it is not one.
    /// </summary>
    public static (long Before, int Count)? ArchivedPlace(ChatSessionState state, string turnId)
    {
        if (FindTurn(state, turnId) is not null || state.ArchivedIds.LastOrDefault(k => k.TurnId == turnId) is not { } key)
        {
            return null;
        }

        return key.Sequence is { } sequence ? (sequence + 1, 1) : (state.ArchivedThrough + 1, state.ArchivedIds.Count);
    }

    public static TurnView? FindTurn(ChatSessionState state, string turnId)
    {
        if (state.Active?.Turn is { } running && running.TurnId == turnId)
        {
            return new(turnId, running.Sequence, TurnStatus.Running, running.MessageHash, null, null) { AcceptedAt = running.AcceptedAt, Branch = running.Branch };
        }

        for (int i = 0; i < state.Pending.Count; i++)
        {
            if (state.Pending[i].TurnId == turnId)
            {
                return new(turnId, state.Pending[i].Sequence, TurnStatus.Queued, state.Pending[i].MessageHash, i + 1, null) { AcceptedAt = state.Pending[i].AcceptedAt, Branch = state.Pending[i].Branch };
            }
        }

        for (int i = state.Turns.Count - 1; i >= 0; i--)
        {
            var turn = state.Turns[i];
            if (turn.TurnId == turnId)
            {
                return new(turnId, turn.Sequence, turn.Status, turn.MessageHash, null, turn) { AcceptedAt = turn.AcceptedAt, Branch = turn.Branch };
            }
        }

        return null;
    }

    /// <summary>A turn's incarnation: the session's generation and the turn's sequence.</summary>
    public static string RunOf(ChatSessionState state, long sequence) => $"{state.Generation}.{sequence}";

    /// <summary>
    /// What became of a request: the turn, or, when the session refused it because its queue was full (and has not
    /// taken it since), a failed turn that holds no text.
    /// </summary>
    public static TurnView? FindOutcome(ChatSessionState state, string turnId)
    {
        if (FindTurn(state, turnId) is { } turn)
        {
            return turn;
        }

        return state.Refused.LastOrDefault(r => r.TurnId == turnId) is { } refused ? Refusal(refused) : null;
    }

    /// <summary>A refused request as a client sees it: a failed turn that holds no text.</summary>
    public static TurnView Refusal(ArchivedTurnKey refused)
    {
        string turnId = refused.TurnId;
        var failed = new TranscriptTurn(turnId, 0, TurnStatus.Failed, "", refused.MessageHash, default, default)
        {
            ErrorCode = refused.Busy ? ErrorCodes.TurnInProgress : ErrorCodes.QueueFull,
            ErrorMessage = refused.Busy
                ? "A turn was running or queued and the message was sent with the reject strategy; nothing was stored."
                : "The session's queue was full; nothing was stored. Try again later with the same Idempotency-Key.",
        };
        return new(turnId, 0, TurnStatus.Failed, refused.MessageHash, null, failed);
    }

    /// <summary>
    /// What the session has made of one request so far: nothing yet (its signal is on its way), taken (as this message,
    /// or the key holds another), refused for a full queue, or dropped by a delete requested after it was accepted.
    /// </summary>
    public static Receipt ReceiptOf(ChatSessionState? state, TurnRequest request)
    {
        if (state is null)
        {
            return new(ReceiptStatus.Unseen, null);
        }

        var turn = FindOutcome(state, request.TurnId);
        if (FindMessageHash(state, request.TurnId) is { } taken)
        {
            return new(taken == request.MessageHash ? ReceiptStatus.Taken : ReceiptStatus.Conflict, turn);
        }

        if (RefusalOf(state, request) is not null)
        {
            return new(ReceiptStatus.Refused, turn);
        }

        return new(state.DeletedAt >= request.AcceptedAt ? ReceiptStatus.Dropped : ReceiptStatus.Unseen, null);
    }

    /// <summary>
    /// The refusal a request (or a copy of it) got: its own, remembered by id and fingerprint, or, accepted no later
    /// than the refusals remembered only by their time, one of those. Null: it was not refused.
    /// </summary>
    public static ArchivedTurnKey? RefusalOf(ChatSessionState state, TurnRequest request)
    {
        if (state.Refused.LastOrDefault(r => r.TurnId == request.TurnId && r.MessageHash == request.MessageHash && r.AcceptedAt >= request.AcceptedAt) is { } refused)
        {
            return refused;
        }

        return request.AcceptedAt <= state.RefusedThrough
            ? new ArchivedTurnKey(request.TurnId, request.MessageHash) { AcceptedAt = state.RefusedThrough }
            : null;
    }

    /// <summary>
    /// Whether the model is shown a finished turn: a completed one, or one interrupted after the model had begun to
    /// answer (its partial answer as it stood). Failed, cancelled and rolled-back turns, and an interrupted one the
    /// model had said nothing of yet, are left out.
    /// </summary>
    public static bool InConversation(TranscriptTurn turn) => turn switch
    {
        { Status: TurnStatus.Completed, Answer: not null } => true,
        { Status: TurnStatus.Interrupted, Answer: { } partial } => partial.Length > 0 || turn.AnswerRef is not null,
        _ => false,
    };

    /// <summary>
    /// Whether the words of the lives an erasure takes may go: the state says they were deleted (or the session holds
    /// nothing at all). A delete whose state was not saved leaves its turns in the state until it runs again.
    /// </summary>
    public static bool Erasable(ChatSessionState? state, Erasure erasure) =>
        state is null or { IsVoid: true } || state.DeletedAt >= erasure.AcceptedThrough || state.Generation > erasure.Generation;

    /// <summary>Whether the running turn is this incarnation and the session has not asked it to stop: its model call may go on.</summary>
    public static bool Runs(ChatSessionState? state, string turnId, string? run) =>
        state?.Active is { Stop: null } active && active.Turn.TurnId == turnId && (run is null || run == RunOf(state, active.Turn.Sequence));

    /// <summary>
    /// The conversation the model is shown from the working set: the turns of one line (<see cref="Branches.LineFrom"/>,
    /// newest first) that are <see cref="InConversation"/>, oldest first, each a user message and its reply.
    /// </summary>
    public static IReadOnlyList<ConversationMessage> Conversation(IReadOnlyList<TranscriptTurn> line)
    {
        var messages = new List<ConversationMessage>(line.Count * 2);
        foreach (var turn in line.Reverse())
        {
            if (InConversation(turn) && turn.Answer is { } answer)
            {
                messages.Add(new(ConversationMessage.User, turn.Message) { Ref = turn.MessageRef });
                messages.Add(new(ConversationMessage.Assistant, answer) { Ref = turn.AnswerRef });
            }
        }

        // It travels in the turn's input: past its budget the oldest words go by their keys.
        int bytes = PayloadBudget.Bytes(messages);
        for (int i = 0; i < messages.Count && bytes > PayloadBudget.HistoryBytes; i++)
        {
            if (messages[i] is { Ref: not null, Content.Length: > 0 } message)
            {
                bytes -= PayloadBudget.TextBytes(message.Content) - PayloadBudget.EmptyTextBytes;
                messages[i] = message with { Content = "" };
            }
        }

        return messages;
    }
}
