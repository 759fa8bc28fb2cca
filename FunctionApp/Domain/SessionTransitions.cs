using System.Text;

namespace FunctionsChat.Domain;

/// <summary>
/// Every change a chat session can go through. Pure: the same state and input give the same result,
/// and whatever must happen next (starting a turn, archiving, deleting the archive) is returned, never done.
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
        var retention = limits.IdleRetention > TimeSpan.Zero ? now + limits.IdleRetention : (DateTimeOffset?)null;
        if (state.Pending.Count >= limits.MaxPendingTurns)
        {
            var rejected = Finished(request.TurnId, sequence, request.Message, request.MessageHash, request.AcceptedAt, now, TurnStatus.Failed) with
            {
                ErrorCode = ErrorCodes.QueueFull,
                ErrorMessage = $"The session already has {limits.MaxPendingTurns} turns waiting.",
            };
            return Settle(new(WithFinished(state, rejected), TransitionNote.QueueFull), now, limits) with { RetentionCheckAt = retention };
        }

        var queued = new QueuedTurn(request.TurnId, sequence, request.Message, request.MessageHash, request.AcceptedAt, now) { TraceParent = request.TraceParent };
        return Settle(StartNextIfIdle(state with { Pending = [.. state.Pending, queued] }, now, limits), now, limits) with { RetentionCheckAt = retention };
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
            var next = WithFinished(Touch(state, state.SessionId, now) with { Pending = remaining }, Finished(queued, now, TurnStatus.Cancelled));
            return Settle(new(next, TransitionNote.Applied), now, limits);
        }

        var known = SessionQueries.FindTurn(state, cancellation.TurnId);
        return new(state, known is null ? TransitionNote.NotFound : TransitionNote.AlreadyFinished);
    }

    /// <summary>The archive holds the batch: its turns leave the working set, and the next batch may start.</summary>
    public static Transition ConfirmArchived(ChatSessionState state, ArchiveReport report, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Archiving?.BatchId != report.BatchId)
        {
            // A write that landed after the session was deleted leaves rows nobody reads: delete them too.
            return new(state, TransitionNote.Stale) { DeleteArchive = state.IsEmpty };
        }

        var archived = state.Turns.Where(t => t.Sequence <= report.ThroughSequence).Select(t => new ArchivedTurnKey(t.TurnId, t.MessageHash));
        var next = state with
        {
            Turns = state.Turns.Where(t => t.Sequence > report.ThroughSequence).ToArray(),
            ArchivedIds = state.ArchivedIds.Concat(archived).TakeLast(limits.ArchivedIdWindow).ToArray(),
            ArchivedThrough = Math.Max(state.ArchivedThrough, report.ThroughSequence),
            Archiving = null,
        };
        return Settle(new(next, TransitionNote.Applied), now, limits);
    }

    /// <summary>The archive write failed for good: the turns stay, and a later turn tries again.</summary>
    public static Transition ArchiveFailed(ChatSessionState state, ArchiveReport report) =>
        state.Archiving?.BatchId == report.BatchId
            ? new(state with { Archiving = null }, TransitionNote.Applied)
            : new(state, TransitionNote.Stale);

    /// <summary>Deletes a session left idle for the retention time; any activity since keeps it.</summary>
    public static Transition RetentionCheck(ChatSessionState state, DateTimeOffset now, SessionLimits limits)
    {
        bool idle = limits.IdleRetention > TimeSpan.Zero && !state.IsEmpty && state.Active is null && state.Pending.Count == 0
            && now >= state.LastActivityAt + limits.IdleRetention;
        return idle ? Delete(state) : new(state, TransitionNote.Kept);
    }

    public static Transition Delete(ChatSessionState state) =>
        new(ChatSessionState.Empty, TransitionNote.Deleted) { DeleteArchive = state.ArchivedThrough > 0 || state.Archiving is not null };

    static Transition FinishActive(ChatSessionState state, TranscriptTurn finished, DateTimeOffset now, SessionLimits limits)
    {
        var next = WithFinished(Touch(state, state.SessionId, now) with { Active = null }, finished);
        return Settle(StartNextIfIdle(next, now, limits), now, limits);
    }

    static Transition StartNextIfIdle(ChatSessionState state, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Active is not null || state.Pending.Count == 0)
        {
            return new(state, TransitionNote.Applied);
        }

        var head = state.Pending[0];
        var active = new ActiveTurn(head, now, now + limits.TurnTimeout);
        var start = new TurnStart(state.SessionId, head.TurnId, head.Sequence, head.Message, SessionQueries.Conversation(state), active.ExpiresAt)
        {
            StartedAt = now,
            TraceParent = head.TraceParent,
        };
        return new(state with { Pending = state.Pending.Skip(1).ToArray(), Active = active }, TransitionNote.Applied, start);
    }

    /// <summary>
    /// Starts an archive write when the working set has outgrown its bounds: the oldest finished turns (only those
    /// older than every unfinished turn, so the archive is always a whole prefix), until half the bounds remain.
    /// </summary>
    static Transition Settle(Transition transition, DateTimeOffset now, SessionLimits limits)
    {
        var state = transition.State;
        if (!limits.Archives || (state.Archiving is { } running && now - running.StartedAt < limits.ArchiveTimeout))
        {
            return transition;
        }

        int count = state.Turns.Count;
        long bytes = state.Turns.Sum(TurnBytes);
        if (count <= limits.MaxWorkingTurns && bytes <= limits.MaxWorkingBytes)
        {
            return transition;
        }

        long firstUnfinished = Math.Min(state.Active?.Turn.Sequence ?? long.MaxValue, state.Pending.Count > 0 ? state.Pending.Min(t => t.Sequence) : long.MaxValue);
        var batch = new List<TranscriptTurn>();
        long batchBytes = 0;
        foreach (var turn in state.Turns)
        {
            bool overHalf = count > limits.MaxWorkingTurns / 2 || bytes > limits.MaxWorkingBytes / 2;
            long size = TurnBytes(turn);
            if (!overHalf || turn.Sequence >= firstUnfinished || (batch.Count > 0 && batchBytes + size > limits.MaxWorkingBytes))
            {
                break;
            }

            batch.Add(turn);
            batchBytes += size;
            count--;
            bytes -= size;
        }

        if (batch.Count == 0)
        {
            return transition;
        }

        var archiving = new ArchiveBatch($"{batch[^1].Sequence}-{now.UtcTicks}", batch[^1].Sequence, now);
        return transition with
        {
            State = state with { Archiving = archiving },
            Archive = new ArchiveStart(archiving.BatchId, archiving.ThroughSequence, batch),
        };
    }

    /// <summary>The text a turn holds, in UTF-8 bytes, plus room for its fields: what it adds to the stored state.</summary>
    public static long TurnBytes(TranscriptTurn turn) =>
        256 + Encoding.UTF8.GetByteCount(turn.Message) + (turn.Answer is null ? 0 : Encoding.UTF8.GetByteCount(turn.Answer))
        + (turn.ErrorMessage is null ? 0 : Encoding.UTF8.GetByteCount(turn.ErrorMessage));

    // Finished turns stay in sequence order, so the archive always holds a whole prefix of the transcript.
    static ChatSessionState WithFinished(ChatSessionState state, TranscriptTurn finished)
    {
        var turns = new List<TranscriptTurn>(state.Turns.Count + 1);
        turns.AddRange(state.Turns);
        int at = turns.Count;
        while (at > 0 && turns[at - 1].Sequence > finished.Sequence)
        {
            at--;
        }

        turns.Insert(at, finished);
        return state with { Turns = turns };
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
