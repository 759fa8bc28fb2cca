using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>
/// What a fork copies: one line of the original up to a turn, words and all, into the new session's archive,
/// renumbered from 1 as one line, and the summary when it covers only turns of that line. The new session refers to
/// nothing of the original.
/// </summary>
public static class SessionFork
{
    /// <summary>The id under which a fork holds its new session while it writes it (a request record, as a message holds its key).</summary>
    public const string ClaimId = "~fork";

    public sealed record Copy(IReadOnlyList<TranscriptTurn> Line, ConversationSummary? Summary);

    /// <summary>The line ending at <paramref name="through"/>, oldest first, with its words; and its summary, if any covers only its turns.</summary>
    public static async Task<Copy> CopyAsync(ITranscriptArchive archive, string sessionKey, ChatSessionState state, long through, CancellationToken cancellation)
    {
        var (working, archivedFrom) = Branches.LineFrom(state, through);
        var line = new List<TranscriptTurn>();
        foreach (var turn in working)
        {
            line.Add(await StoredTexts.FillAsync(archive, sessionKey, turn, cancellation));
        }

        await foreach (var turn in ArchiveLine.ReadAsync(archive, sessionKey, archivedFrom, 0, cancellation))
        {
            line.Add(turn);
        }

        line.Reverse();
        var stored = state.ArchivedThrough > 0 ? await archive.ReadSummaryAsync(sessionKey, cancellation) : null;
        var summary = stored is { } found && found.Belongs(state.Generation, state.ArchivedThrough) && line.Any(t => t.Sequence == found.Through) ? found : null;
        return new(line, summary);
    }

    /// <summary>Writes the copy's turns into the new session's archive and says what the new session takes as its own.</summary>
    public static async Task<ForkSeed> WriteAsync(ITranscriptArchive archive, string targetKey, string sessionId, Copy copy, DateTimeOffset acceptedAt, CancellationToken cancellation)
    {
        // The copies belong to the new session's life: accepted when the fork was, so an erasure of an earlier life of
        // that id (still on its way) leaves them, and a later delete takes them.
        var turns = copy.Line.Select((t, i) => t with { Sequence = i + 1, Parent = null, Branch = 0, MessageRef = null, AnswerRef = null, AcceptedAt = acceptedAt }).ToArray();
        await archive.WriteAsync(targetKey, turns, cancellation);
        var keys = turns.TakeLast(SessionLimits.Default.ArchivedIdWindow).Select(t => new ArchivedTurnKey(t.TurnId, t.MessageHash) { Sequence = t.Sequence }).ToArray();
        return new ForkSeed(sessionId, turns.Length, acceptedAt, keys) { SummaryThrough = SummaryThrough(copy) };
    }

    /// <summary>Writes the copy's summary, renumbered, under the new session's life; once the session is the fork's.</summary>
    public static async Task WriteSummaryAsync(ITranscriptArchive archive, string targetKey, Copy copy, long generation, CancellationToken cancellation)
    {
        if (copy.Summary is { } summary)
        {
            await archive.WriteSummaryAsync(targetKey, summary with { Through = SummaryThrough(copy), Generation = generation }, cancellation);
        }
    }

    static long SummaryThrough(Copy copy) =>
        copy.Summary is { } summary ? copy.Line.Select((t, i) => (t.Sequence, Index: i + 1)).First(p => p.Sequence == summary.Through).Index : 0;
}
