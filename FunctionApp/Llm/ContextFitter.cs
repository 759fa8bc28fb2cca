using FunctionsChat.Domain;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace FunctionsChat.Llm;

/// <summary>
/// Fits a turn's prompt to a token budget, counted with the o200k_base tokenizer: the system prompt and the new
/// message always stay; whole earlier turns (a user message and its reply) are left out oldest first.
/// The stored transcript is never cut; only what the model is shown.
/// </summary>
public sealed class ContextFitter(Tokenizer tokenizer)
{
    // The chat format spends a few tokens on every message (role and delimiters) and on priming the reply.
    public const int TokensPerMessage = 4;
    public const int TokensForReplyPriming = 3;

    public static Tokenizer CreateTokenizer() => TiktokenTokenizer.CreateForEncoding("o200k_base");

    /// <summary>
    /// Texts are counted in pieces of at most this many characters: a long run the pre-tokenizer cannot split (32 KiB
    /// of <c>&lt;</c>, of CJK or of emoji) costs byte-pair merging time quadratic in its length, 150 ms and more for
    /// one message. Pieces end at white space where there is some, so the count is exact for prose and a little high
    /// (never low) for such runs.
    /// </summary>
    public const int PieceLength = 1024;

    public int Count(string role, string content) => TokensPerMessage + tokenizer.CountTokens(role) + CountText(content);

    int CountText(string text)
    {
        if (text.Length <= PieceLength)
        {
            return tokenizer.CountTokens(text);
        }

        int count = 0;
        for (int start = 0; start < text.Length;)
        {
            int length = Math.Min(PieceLength, text.Length - start);
            if (start + length < text.Length)
            {
                int space = text.LastIndexOfAny([' ', '\n'], start + length - 1, length / 4);
                length = space > start ? space - start : char.IsHighSurrogate(text[start + length - 1]) ? length - 1 : length;
            }

            count += tokenizer.CountTokens(text.AsSpan(start, length));
            start += length;
        }

        return count;
    }

    public int Count(IEnumerable<ChatMessage> messages) =>
        TokensForReplyPriming + messages.Sum(m => Count(m.Role.Value, m.Text));

    /// <param name="summary">A summary of the turns before <paramref name="history"/>, put right after the system prompt.</param>
    /// <param name="costs">The token count of each history message when the caller has counted them already.</param>
    public IReadOnlyList<ChatMessage> Fit(string systemPrompt, IReadOnlyList<ConversationMessage> history, string message, int budget, string? summary = null, IReadOnlyList<int>? costs = null)
    {
        int used = TokensForReplyPriming + Count(ChatRole.System.Value, systemPrompt) + Count(ChatRole.User.Value, message)
            + (summary is null ? 0 : Count(ChatRole.System.Value, summary));
        if (used > budget)
        {
            throw new ModelCallException(new ModelFailure(
                ModelFailure.ContextTooLong,
                $"The message needs {used} tokens with the system prompt; the budget is {budget}."));
        }

        int keepFrom = history.Count;
        foreach (var (start, length) in TurnsNewestFirst(history))
        {
            int cost = 0;
            for (int i = start; i < start + length; i++)
            {
                cost += costs?[i] ?? Count(history[i].Role, history[i].Content);
            }

            if (used + cost > budget)
            {
                break;
            }

            used += cost;
            keepFrom = start;
        }

        var prompt = new List<ChatMessage>(history.Count - keepFrom + 3) { new(ChatRole.System, systemPrompt) };
        if (summary is not null)
        {
            prompt.Add(new ChatMessage(ChatRole.System, summary));
        }

        for (int i = keepFrom; i < history.Count; i++)
        {
            prompt.Add(new ChatMessage(new ChatRole(history[i].Role), history[i].Content));
        }

        prompt.Add(new ChatMessage(ChatRole.User, message));
        return prompt;
    }

    // A turn starts at a user message and runs to the next one.
    static IEnumerable<(int Start, int Length)> TurnsNewestFirst(IReadOnlyList<ConversationMessage> history)
    {
        int end = history.Count;
        for (int i = history.Count - 1; i >= 0; i--)
        {
            if (history[i].Role == ConversationMessage.User || i == 0)
            {
                yield return (i, end - i);
                end = i;
            }
        }
    }
}
