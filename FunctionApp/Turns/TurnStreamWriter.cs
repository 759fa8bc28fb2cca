using System.Text;
using FunctionsChat.Archive;
using FunctionsChat.Domain;

namespace FunctionsChat.Turns;

/// <summary>
/// One attempt's writer of a turn's stream: text is batched and appended as a chunk every <see cref="FlushInterval"/>
/// or <see cref="FlushChars"/> characters, whichever comes first, and once more, marked last, when the model is done.
/// Each chunk carries the number of the session's newest event its writer had seen (<see cref="TurnWatch.Events"/>,
/// read every <see cref="TurnWatch.StopCheck"/>), which places it among the session's events for every window alike
/// (<c>SessionEvents</c>).
/// </summary>
public sealed class TurnStreamWriter(ITurnStreams streams, TimeProvider clock, string sessionKey, string stream, Func<long>? sessionEvents = null)
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    public const int FlushChars = 1_000;

    /// <summary>The most characters one chunk holds (a table string property holds 32 Ki).</summary>
    public const int MaxChunkChars = 8_000;

    readonly StringBuilder pending = new();
    readonly StringBuilder written = new();
    DateTimeOffset lastFlush = clock.GetUtcNow();
    int seq;

    /// <summary>This attempt's name: when it began.</summary>
    public string Attempt { get; } = StreamKeys.NewAttempt(clock.GetUtcNow());

    /// <summary>Everything this attempt has streamed, appended or not.</summary>
    public string Text => written.ToString();

    /// <summary>Chunks appended so far: a storage write each.</summary>
    public int Chunks => seq;

    public async Task AddAsync(string? text, CancellationToken cancellation)
    {
        if (!string.IsNullOrEmpty(text))
        {
            pending.Append(text);
            written.Append(text);
        }

        if (pending.Length >= FlushChars || (pending.Length > 0 && clock.GetUtcNow() - lastFlush >= FlushInterval))
        {
            await FlushAsync(last: false, cancellation);
        }
    }

    /// <summary>Appends what is left, marked as the attempt's last chunk.</summary>
    public Task CompleteAsync(CancellationToken cancellation) => FlushAsync(last: true, cancellation);

    async Task FlushAsync(bool last, CancellationToken cancellation)
    {
        string text = pending.ToString();
        pending.Clear();
        lastFlush = clock.GetUtcNow();
        long events = sessionEvents?.Invoke() ?? 0;
        int at = 0;
        do
        {
            int length = Math.Min(MaxChunkChars, text.Length - at);
            if (length > 0 && at + length < text.Length && char.IsHighSurrogate(text[at + length - 1]))
            {
                length--;
            }

            bool final = last && at + length >= text.Length;
            await streams.AppendAsync(sessionKey, stream, new StreamChunk(Attempt, seq++, text.Substring(at, length), final) { After = events }, cancellation);
            at += length;
        }
        while (at < text.Length);
    }
}
