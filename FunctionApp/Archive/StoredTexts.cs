using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>Reads back the words a payload or the state carries only by key (<see cref="StoredText"/>).</summary>
public static class StoredTexts
{
    /// <returns>The text, or "" when its stored copy is gone (its session deleted meanwhile).</returns>
    public static async Task<string> ReadAsync(ITranscriptArchive archive, string sessionKey, string inline, string? key, CancellationToken cancellation) =>
        await FindAsync(archive, sessionKey, inline, key, cancellation) ?? "";

    /// <returns>The text, or null when its stored copy is gone.</returns>
    public static async Task<string?> FindAsync(ITranscriptArchive archive, string sessionKey, string inline, string? key, CancellationToken cancellation) =>
        StoredText.IsLeft(inline, key) ? await archive.ReadTextAsync(sessionKey, key!, cancellation) : inline;

    public static async Task<TranscriptTurn> FillAsync(ITranscriptArchive archive, string sessionKey, TranscriptTurn turn, CancellationToken cancellation)
    {
        if (!StoredText.IsLeft(turn.Message, turn.MessageRef) && !StoredText.IsLeft(turn.Answer, turn.AnswerRef))
        {
            return turn;
        }

        string message = await ReadAsync(archive, sessionKey, turn.Message, turn.MessageRef, cancellation);
        string? answer = turn.Answer is null ? null : await ReadAsync(archive, sessionKey, turn.Answer, turn.AnswerRef, cancellation);
        return turn with { Message = message, Answer = answer };
    }

    public static async Task<IReadOnlyList<TranscriptTurn>> FillAsync(ITranscriptArchive archive, string sessionKey, IReadOnlyList<TranscriptTurn> turns, CancellationToken cancellation) =>
        await Task.WhenAll(turns.Select(t => FillAsync(archive, sessionKey, t, cancellation)));

    /// <summary>The messages with their words read back; one whose stored copy is gone is left out.</summary>
    public static async Task<IReadOnlyList<ConversationMessage>> FillAsync(ITranscriptArchive archive, string sessionKey, IReadOnlyList<ConversationMessage> messages, CancellationToken cancellation)
    {
        var filled = await Task.WhenAll(messages.Select(async m =>
        {
            if (!StoredText.IsLeft(m.Content, m.Ref))
            {
                return m;
            }

            string? text = await archive.ReadTextAsync(sessionKey, m.Ref!, cancellation);
            return text is null ? null : m with { Content = text };
        }));
        return [.. filled.OfType<ConversationMessage>()];
    }

    /// <summary>The state with every word in place: the finished turns', the queue's and the running turn's.</summary>
    public static async Task<ChatSessionState> FillAsync(ITranscriptArchive archive, string sessionKey, ChatSessionState state, CancellationToken cancellation)
    {
        var turns = FillAsync(archive, sessionKey, state.Turns, cancellation);
        var pending = Task.WhenAll(state.Pending.Select(async q => q with { Message = await ReadAsync(archive, sessionKey, q.Message, q.MessageRef, cancellation) }));
        var active = state.Active is { } a
            ? a with { Turn = a.Turn with { Message = await ReadAsync(archive, sessionKey, a.Turn.Message, a.Turn.MessageRef, cancellation) } }
            : null;
        return state with { Turns = await turns, Pending = await pending, Active = active };
    }
}
