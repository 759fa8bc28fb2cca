namespace FunctionsChat.Domain;

/// <summary>
/// A message or an answer is stored whole under its key (<see cref="TextKeys"/>) and carried inline beside the key
/// only while it fits: an empty inline text with a key means "read it from the store".
/// </summary>
public static class StoredText
{
    /// <summary>The text to carry inline: all of it when short enough, otherwise none (it goes by its key).</summary>
    public static string Inline(string text) => PayloadBudget.TextBytes(text) <= PayloadBudget.InlineTextBytes ? text : "";

    /// <summary>The turn with every word that has a stored copy left to it (carried by its key alone).</summary>
    public static TranscriptTurn Leave(TranscriptTurn turn) => turn with
    {
        Message = turn.MessageRef is null ? turn.Message : "",
        Answer = turn.AnswerRef is null || turn.Answer is null ? turn.Answer : "",
    };

    /// <summary>Whether the text is only in the store: a key, and nothing inline.</summary>
    public static bool IsLeft(string? inline, string? key) => key is not null && inline is { Length: 0 };
}
