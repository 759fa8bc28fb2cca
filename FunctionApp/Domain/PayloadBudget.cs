using System.Text.Json;

namespace FunctionsChat.Domain;

/// <summary>
/// How big a durable payload may be, in the unit of the form the Azure Storage backend stores it. The worker writes a
/// payload as JSON (ASCII: its default encoder escapes everything else); the backend then escapes that text again
/// inside its own JSON: once for an entity's state inside the entity's scheduler state and for an input or output
/// inside a queue message, twice for a signal's input inside the request inside the message. A table value over 60 KiB
/// of UTF-16 and a queue message over 45 KiB go to the large-message blobs. <see cref="Bytes{T}"/> counts the UTF-16
/// bytes of the payload escaped twice, which bounds every one of those forms; every payload of the app, the session
/// state included, stays under <see cref="MaxBytes"/> of it. Words that do not fit go by reference through the session's
/// own table (<see cref="TextKeys"/>).
/// </summary>
public static class PayloadBudget
{
    /// <summary>
    /// The most stored bytes any durable payload of the app may have: under the 61,440 UTF-16 bytes past which a table
    /// value goes to blobs, with 5,440 left for what the backend wraps around it (the entity's scheduler state, a
    /// message's envelope); as a queue message, 28,000 characters and the envelope, under 45 KiB.
    /// </summary>
    public const int MaxBytes = 56_000;

    /// <summary>The most stored bytes a message or an answer takes inline in a signal, an input or an output.</summary>
    public const int InlineTextBytes = 8_192;

    /// <summary>The inline words the session state keeps; past it the oldest are left to their stored copies.</summary>
    public const int StateTextBytes = 44_000;

    /// <summary>The most stored bytes of conversation a turn's input carries inline; the rest goes by reference.</summary>
    public const int HistoryBytes = 40_000;

    /// <summary>The most stored bytes of turns an archive batch carries inline; the rest goes by reference.</summary>
    public const int BatchBytes = 40_000;

    /// <summary>The most stored bytes of an error message or a model name kept with a turn.</summary>
    public const int NoteBytes = 512;

    /// <summary>
    /// The worker's default serializer settings (WorkerOptions.Serializer): the default encoder, which writes
    /// <c>&lt;</c>, <c>&amp;</c>, <c>'</c>, non-ASCII and control characters as six-byte escapes.
    /// </summary>
    public static JsonSerializerOptions WorkerJson { get; } = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The stored bytes of a payload: its JSON as the worker writes it, escaped twice, in UTF-16.</summary>
    public static int Bytes<T>(T value) => StoredBytes(JsonSerializer.SerializeToUtf8Bytes(value, WorkerJson));

    /// <summary>The stored bytes a string takes as a JSON value, quotes and escapes included.</summary>
    public static int TextBytes(string? text) => text is null ? NullBytes : StoredBytes(JsonSerializer.SerializeToUtf8Bytes(text, WorkerJson));

    /// <summary>The stored bytes of an empty string: what a text left to its stored copy still takes.</summary>
    public static int EmptyTextBytes { get; } = TextBytes("");

    static readonly int NullBytes = StoredBytes("null"u8);

    /// <summary>
    /// The UTF-16 bytes of the worker's JSON (<paramref name="json"/>, ASCII) escaped twice by the backend's serializer:
    /// each escape writes a quote or a backslash as two characters, so each of them ends as four, and the rest as one.
    /// </summary>
    public static int StoredBytes(ReadOnlySpan<byte> json)
    {
        int escaped = json.Count((byte)'"') + json.Count((byte)'\\');
        return 2 * (json.Length + 3 * escaped);
    }

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
