namespace FunctionsChat.Domain;

/// <summary>
/// Keeps the session state under <see cref="PayloadBudget.MaxBytes"/> stored bytes whatever it is sent. Every
/// message and answer has a stored copy, so the state's inline words are only a cache: past
/// <see cref="PayloadBudget.StateTextBytes"/> the oldest are left to their copies. What cannot be left (ids, times,
/// fingerprints) is bounded by admission: a turn is taken, or started, only while the state without its inline words
/// leaves <see cref="Reserve"/> for the running turn to finish in.
/// </summary>
public static class StateBudget
{
    /// <summary>Room kept for the running turn's result (a clipped model name or error, its answer's key, its usage).</summary>
    public const int Reserve = 4_000;

    /// <summary>The state with its oldest inline words left to their stored copies until it is within budget.</summary>
    public static ChatSessionState Fit(ChatSessionState state)
    {
        int bytes = PayloadBudget.Bytes(state);
        if (bytes > PayloadBudget.StateTextBytes)
        {
            state = Leave(state, bytes - PayloadBudget.StateTextBytes);
            bytes = PayloadBudget.Bytes(state);
        }

        // Admission keeps room for every refusal the session remembers, so only a state from an earlier version can
        // be over its bound here: then the oldest remembered ids go.
        while ((state.Refused.Count > 0 || state.ArchivedIds.Count > 0) && bytes > PayloadBudget.MaxBytes)
        {
            state = state.Refused.Count > 0
                ? state with { Refused = state.Refused.Skip(1).ToArray() }
                : state with { ArchivedIds = state.ArchivedIds.Skip(1).ToArray() };
            bytes = PayloadBudget.Bytes(state);
        }

        return state;
    }

    /// <summary>The bytes the state would take with every inline word left to its copy: what admission bounds.</summary>
    public static int Squeezed(ChatSessionState state) => PayloadBudget.Bytes(Leave(state, int.MaxValue));

    /// <summary>
    /// Whether the state has room for a running turn to finish in, and for a full window of refusals (each the longest
    /// id, a fingerprint and a time) with the time of those pushed out of it, so neither ever needs the other's room.
    /// </summary>
    public static bool HasRoom(ChatSessionState state, SessionLimits limits) => Room(state, limits) >= Reserve;

    /// <summary>Short of room for the next turn's result after this one's: time to archive every finished turn that can go.</summary>
    public static bool IsCramped(ChatSessionState state, SessionLimits limits) => Room(state, limits) < 2 * Reserve;

    static int Room(ChatSessionState state, SessionLimits limits) =>
        PayloadBudget.MaxBytes - Squeezed(state with { Refused = [], RefusedThrough = DateTimeOffset.MaxValue }) - (limits.RefusedWindow * RefusalBytes);

    /// <summary>The most one remembered refusal takes, with its comma.</summary>
    static readonly int RefusalBytes = 2 + PayloadBudget.Bytes(
        new ArchivedTurnKey(new string('x', SessionIds.MaxLength), new string('0', Fingerprint.Length)) { AcceptedAt = DateTimeOffset.MaxValue, Busy = true });

    /// <summary>
    /// Leaves inline words to their copies until about <paramref name="excess"/> bytes are gone: the oldest finished
    /// turns first, then the queue from its end, then the running turn.
    /// </summary>
    static ChatSessionState Leave(ChatSessionState state, int excess)
    {
        int freed = 0;
        var turns = state.Turns.ToArray();
        for (int i = 0; i < turns.Length && freed < excess; i++)
        {
            var left = StoredText.Leave(turns[i]);
            freed += Freed(turns[i].Message, left.Message) + Freed(turns[i].Answer, left.Answer);
            turns[i] = left;
        }

        var pending = state.Pending.ToArray();
        for (int i = pending.Length - 1; i >= 0 && freed < excess; i--)
        {
            if (pending[i].MessageRef is not null && pending[i].Message.Length > 0)
            {
                freed += PayloadBudget.TextBytes(pending[i].Message) - PayloadBudget.EmptyTextBytes;
                pending[i] = pending[i] with { Message = "" };
            }
        }

        var active = state.Active;
        if (freed < excess && active?.Turn is { MessageRef: not null, Message.Length: > 0 } running)
        {
            active = active with { Turn = running with { Message = "" } };
        }

        return state with { Turns = turns, Pending = pending, Active = active };
    }

    // Only a text that was left is measured: the rest stay as they are, unserialized.
    static int Freed(string? before, string? after) =>
        ReferenceEquals(before, after) ? 0 : PayloadBudget.TextBytes(before) - PayloadBudget.TextBytes(after);
}
