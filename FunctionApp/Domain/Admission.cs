namespace FunctionsChat.Domain;

/// <summary>What the session would make of a new request, judged on a state read just before it is stored.</summary>
public enum AdmissionCheck
{
    /// <summary>The session would take it: the request is stored and signalled, and a send answers 202 at once.</summary>
    Taken,

    /// <summary>The queue is full: 429 at once, nothing stored or signalled.</summary>
    QueueFull,

    /// <summary>A turn is running or queued and the message asked to be rejected then: 409 at once, nothing stored or signalled.</summary>
    Busy,

    /// <summary>Only the session can say (its state is out of room, or was not read): the request waits for its verdict.</summary>
    Undecided,
}

public static class Admission
{
    /// <summary>
    /// Runs the session's own admission (<see cref="SessionTransitions.Enqueue"/>, which is pure) over the state read,
    /// so the API answers what the session would: a state that changes before the signal lands can still refuse a
    /// request judged taken here, and then its turn's status says so.
    /// </summary>
    public static AdmissionCheck Check(ChatSessionState? state, TurnRequest request, DateTimeOffset now, SessionLimits limits)
    {
        var before = state ?? ChatSessionState.Empty;
        var after = SessionTransitions.Enqueue(before, request, now, limits);
        return after.Note switch
        {
            _ when SessionQueries.FindMessageHash(after.State, request.TurnId) == request.MessageHash && SessionQueries.FindMessageHash(before, request.TurnId) is null => AdmissionCheck.Taken,
            TransitionNote.Busy => AdmissionCheck.Busy,
            TransitionNote.QueueFull when before.Pending.Count >= limits.MaxPendingTurns => AdmissionCheck.QueueFull,
            _ => AdmissionCheck.Undecided,
        };
    }
}
