namespace FunctionsChat.Domain;

/// <summary>
/// Every change a chat session can go through. Pure: the same state and input give the same result,
/// and whatever must happen next (starting a turn) is returned, never done.
/// </summary>
public static class SessionTransitions
{
    public static Transition Enqueue(ChatSessionState state, TurnRequest request, DateTimeOffset now, SessionLimits limits)
    {
        if (SessionQueries.FindMessageHash(state, request.TurnId) is { } knownHash)
        {
            return new(state, knownHash == request.MessageHash ? TransitionNote.Duplicate : TransitionNote.Conflict);
        }

        long sequence = state.NextSequence;
        state = Touch(state, request.SessionId, now) with { NextSequence = sequence + 1 };
        if (state.Pending.Count >= limits.MaxPendingTurns)
        {
            var rejected = Finished(request.TurnId, sequence, request.Message, request.MessageHash, request.AcceptedAt, now, TurnStatus.Failed) with
            {
                ErrorCode = ErrorCodes.QueueFull,
                ErrorMessage = $"The session already has {limits.MaxPendingTurns} turns waiting.",
            };
            return new(state with { Turns = [.. state.Turns, rejected] }, TransitionNote.QueueFull);
        }

        var queued = new QueuedTurn(request.TurnId, sequence, request.Message, request.MessageHash, request.AcceptedAt, now);
        return StartNextIfIdle(state with { Pending = [.. state.Pending, queued] }, now, limits);
    }

    public static Transition Complete(ChatSessionState state, TurnCompletion completion, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Active?.Turn is not { } turn || turn.TurnId != completion.TurnId)
        {
            return new(state, TransitionNote.Stale);
        }

        var finished = Finished(turn, completion.CompletedAt, TurnStatus.Completed) with
        {
            Answer = completion.Answer,
            Model = completion.Model,
            Usage = completion.Usage,
        };
        return FinishActive(state, finished, now, limits);
    }

    public static Transition Fail(ChatSessionState state, TurnFailure failure, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Active?.Turn is not { } turn || turn.TurnId != failure.TurnId)
        {
            return new(state, TransitionNote.Stale);
        }

        var finished = Finished(turn, failure.FailedAt, TurnStatus.Failed) with
        {
            ErrorCode = failure.Code,
            ErrorMessage = failure.Message,
        };
        return FinishActive(state, finished, now, limits);
    }

    /// <summary>The active turn never reported back in time: fail it so the session moves on.</summary>
    public static Transition Expire(ChatSessionState state, TurnExpiry expiry, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Active is not { } active || active.Turn.TurnId != expiry.TurnId || now < active.ExpiresAt)
        {
            return new(state, TransitionNote.Stale);
        }

        var finished = Finished(active.Turn, now, TurnStatus.Failed) with
        {
            ErrorCode = ErrorCodes.TurnExpired,
            ErrorMessage = $"The turn did not finish within {limits.TurnTimeout.TotalSeconds:0} seconds.",
        };
        return FinishActive(state, finished, now, limits);
    }

    /// <summary>Cancels a queued turn (removed from the queue) or the running one (its late result is ignored).</summary>
    public static Transition Cancel(ChatSessionState state, TurnCancellation cancellation, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Active?.Turn is { } running && running.TurnId == cancellation.TurnId)
        {
            return FinishActive(state, Finished(running, now, TurnStatus.Cancelled), now, limits);
        }

        if (state.Pending.FirstOrDefault(t => t.TurnId == cancellation.TurnId) is { } queued)
        {
            var remaining = state.Pending.Where(t => t.TurnId != cancellation.TurnId).ToArray();
            var cancelled = Finished(queued, now, TurnStatus.Cancelled);
            return new(Touch(state, state.SessionId, now) with { Pending = remaining, Turns = [.. state.Turns, cancelled] }, TransitionNote.Applied);
        }

        bool finished = state.Turns.Any(t => t.TurnId == cancellation.TurnId);
        return new(state, finished ? TransitionNote.AlreadyFinished : TransitionNote.NotFound);
    }

    public static Transition Delete(ChatSessionState state) => new(ChatSessionState.Empty, TransitionNote.Deleted);

    static Transition FinishActive(ChatSessionState state, TranscriptTurn finished, DateTimeOffset now, SessionLimits limits)
    {
        var next = Touch(state, state.SessionId, now) with { Active = null, Turns = [.. state.Turns, finished] };
        return StartNextIfIdle(next, now, limits);
    }

    static Transition StartNextIfIdle(ChatSessionState state, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Active is not null || state.Pending.Count == 0)
        {
            return new(state, TransitionNote.Applied);
        }

        var head = state.Pending[0];
        var active = new ActiveTurn(head, now, now + limits.TurnTimeout);
        var start = new TurnStart(state.SessionId, head.TurnId, head.Sequence, head.Message, SessionQueries.Conversation(state), active.ExpiresAt);
        return new(state with { Pending = state.Pending.Skip(1).ToArray(), Active = active }, TransitionNote.Applied, start);
    }

    static ChatSessionState Touch(ChatSessionState state, string sessionId, DateTimeOffset now) => state with
    {
        SessionId = sessionId,
        CreatedAt = state.IsEmpty && state.NextSequence == 1 ? now : state.CreatedAt,
        LastActivityAt = now,
    };

    static TranscriptTurn Finished(QueuedTurn turn, DateTimeOffset at, TurnStatus status) =>
        Finished(turn.TurnId, turn.Sequence, turn.Message, turn.MessageHash, turn.AcceptedAt, at, status);

    static TranscriptTurn Finished(string turnId, long sequence, string message, string hash, DateTimeOffset acceptedAt, DateTimeOffset at, TurnStatus status) =>
        new(turnId, sequence, status, message, hash, acceptedAt, at);
}
