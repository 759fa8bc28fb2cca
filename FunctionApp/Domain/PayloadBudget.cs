using System.Text.Json;

namespace FunctionsChat.Domain;

/// <summary>
/// How big a durable payload may be, counted as the worker serializes it: the Azure Storage backend sends anything
/// larger than about 45 KB through blobs, so the session state and every signal, orchestration and activity input and
/// output stay under <see cref="MaxBytes"/>. Words that do not fit go by reference through the session's own table
/// (<see cref="TextKeys"/>).
/// </summary>
public static class PayloadBudget
{
    /// <summary>The most serialized bytes any durable payload of the app may have.</summary>
    public const int MaxBytes = 45_000;

    /// <summary>The most serialized bytes a message or an answer takes inline in a signal, an input or an output.</summary>
    public const int InlineTextBytes = 4_096;

    /// <summary>The inline words the session state keeps; past it the oldest are left to their stored copies.</summary>
    public const int StateTextBytes = 30_000;

    /// <summary>The most serialized bytes of conversation a turn's input carries inline; the rest goes by reference.</summary>
    public const int HistoryBytes = 24_000;

    /// <summary>The most serialized bytes of turns an archive batch carries inline; the rest goes by reference.</summary>
    public const int BatchBytes = 30_000;

    /// <summary>The most serialized bytes of an error message or a model name kept with a turn.</summary>
    public const int NoteBytes = 512;

    /// <summary>
    /// The worker's default serializer settings (WorkerOptions.Serializer): the default encoder, which writes
    /// <c>&lt;</c>, <c>&amp;</c>, <c>'</c>, non-ASCII and control characters as six-byte escapes.
    /// </summary>
    public static JsonSerializerOptions WorkerJson { get; } = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The bytes a payload serializes to.</summary>
    public static int Bytes<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, WorkerJson).Length;

    /// <summary>The bytes a string takes as a JSON value, quotes and escapes included.</summary>
    public static int TextBytes(string? text) => text is null ? 4 : JsonSerializer.SerializeToUtf8Bytes(text, WorkerJson).Length;

    /// <summary>
    /// The longest start of <paramref name="text"/> that serializes to at most <paramref name="maxBytes"/> (never
    /// splitting a surrogate pair), marked with an ellipsis when cut.
    /// </summary>
    public static string Clip(string text, int maxBytes)
    {
        if (TextBytes(text) <= maxBytes)
        {
            return text;
        }

        int low = 0;
        int high = text.Length;
        while (low < high)
        {
            int mid = (low + high + 1) / 2;
            if (TextBytes(Prefix(text, mid) + "…") <= maxBytes)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        return Prefix(text, low) + "…";
    }

    static string Prefix(string text, int length) =>
        length > 0 && length < text.Length && char.IsHighSurrogate(text[length - 1]) ? text[..(length - 1)] : text[..length];
}
