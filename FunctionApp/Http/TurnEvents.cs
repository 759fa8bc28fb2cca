using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using FunctionsChat.Archive;
using FunctionsChat.Domain;

namespace FunctionsChat.Http;

/// <summary>
/// One turn as server-sent events, read from committed state and the turn's stream: <c>queued</c> (with its place,
/// again whenever the place changes), <c>started</c>, <c>delta</c> (the answer as the model speaks it; a <c>reset</c>
/// first when a retried attempt starts over), then <c>completed</c>, <c>failed</c> (a problem) or <c>cancelled</c>.
/// Every event has an id; given the last one a reader saw, it goes on right after it, so nothing is lost or repeated
/// across reconnects. A finished turn replays its accepted attempt. Reads back off from 100 ms to 1 s while nothing
/// changes; the events end at <see cref="MaxDuration"/>, under the front end's 230 s, and the reader reconnects.
/// </summary>
public sealed class TurnEvents(ITurnStreams streams, TimeProvider clock)
{
    public static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(220);

    public const string Started = "started";
    public const string End = "end";

    public async IAsyncEnumerable<SseItem<string>> ReadAsync(
        Func<CancellationToken, Task<TurnView?>> read,
        string sessionKey,
        string sessionId,
        string? lastEventId,
        [EnumeratorCancellation] CancellationToken cancellation)
    {
        var seen = Cursor.Parse(lastEventId);
        var until = clock.GetUtcNow() + MaxDuration;
        var wait = FirstPoll;
        while (!seen.Ended && clock.GetUtcNow() < until)
        {
            var events = new List<SseItem<string>>();
            if (await read(cancellation) is not { } turn)
            {
                yield return Problem(ApiProblem.TurnNotFound(sessionId, ""), sessionId, "", End);
                yield break;
            }

            if (turn.Status == TurnStatus.Queued && turn.Position != seen.Position)
            {
                seen = seen with { Position = turn.Position };
                events.Add(Event("queued", new { turnId = turn.TurnId, position = turn.Position }, $"queued.{turn.Position}"));
            }

            if (turn.Status != TurnStatus.Queued && !seen.Started)
            {
                seen = seen with { Started = true };
                events.Add(Event(Started, new { turnId = turn.TurnId }, Started));
            }

            if (turn.Status != TurnStatus.Queued)
            {
                string? accepted = turn.Finished?.Attempt;
                var chunks = await streams.ReadAsync(sessionKey, StreamKeys.Of(turn.AcceptedAt, turn.TurnId), StreamKeys.ResumeAfter(accepted, seen.Attempt, seen.Chunk), cancellation);
                foreach (var chunk in chunks.Where(c => accepted is null || c.Attempt == accepted))
                {
                    if (seen.Attempt is not null && chunk.Attempt != seen.Attempt)
                    {
                        events.Add(Event("reset", new { turnId = turn.TurnId, attempt = chunk.Attempt }, $"{chunk.Attempt}.reset"));
                    }

                    seen = seen with { Attempt = chunk.Attempt, Chunk = chunk.EventId };
                    if (chunk.Text.Length > 0)
                    {
                        events.Add(Event("delta", new { text = chunk.Text }, chunk.EventId));
                    }
                }
            }

            if (Final(sessionId, turn, End) is { } final)
            {
                events.Add(final);
                seen = seen with { Ended = true };
            }

            foreach (var item in events)
            {
                yield return item;
            }

            wait = NextPoll(wait, events.Count > 0);
            if (!seen.Ended)
            {
                await Task.Delay(wait, clock, cancellation);
            }
        }
    }

    /// <summary>The wait before the next read: back to the first when something came, doubling up to the most while nothing does.</summary>
    public static TimeSpan NextPoll(TimeSpan wait, bool changed) =>
        changed ? FirstPoll : TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxPoll.Ticks));

    /// <summary>How a finished turn's events end: <c>completed</c> (the answer), <c>failed</c> (a problem) or <c>cancelled</c>.</summary>
    public static SseItem<string>? Final(string sessionId, TurnView turn, string id) => turn switch
    {
        { Status: TurnStatus.Completed, Finished: { } done } => Event("completed", new AnswerView(sessionId, done.TurnId, done.Answer ?? "", done.Model, done.Usage) { Truncated = done.Truncated, Warning = done.Warning }, id),
        { Status: TurnStatus.Failed, Finished: { } failed } => Problem(ApiProblem.TurnFailed(failed.TurnId, failed.ErrorCode, failed.ErrorMessage), sessionId, turn.TurnId, id),
        { Status: TurnStatus.Cancelled or TurnStatus.Interrupted or TurnStatus.RolledBack } stopped =>
            Event(StoppedEvent(stopped.Status), new StoppedView(turn.TurnId, stopped.Finished?.Answer, stopped.Finished is { } f && SessionQueries.InConversation(f)), id),
        _ => null,
    };

    /// <summary>The event a stopped turn ends with: <c>cancelled</c>, <c>interrupted</c> or <c>rolledBack</c>, as its status is named.</summary>
    static string StoppedEvent(TurnStatus status) => JsonSerializer.Serialize(status).Trim('"');

    /// <summary>A problem event: the RFC 9457 body the same failure gets as an HTTP answer.</summary>
    static SseItem<string> Problem(ApiProblem problem, string sessionId, string turnId, string id) => Event("failed", new
    {
        type = problem.Type,
        title = problem.Title,
        status = problem.Status,
        detail = problem.Detail,
        instance = ChatRoutes.TurnUrl(sessionId, turnId) + "/stream",
        turnId,
    }, id);

    public static SseItem<string> Event<T>(string type, T data, string id) =>
        new(JsonSerializer.Serialize(data), type) { EventId = id };

    /// <summary>How far a reader got, from the id of the last event it saw.</summary>
    sealed record Cursor(int? Position, bool Started, string? Attempt, string? Chunk, bool Ended)
    {
        public static Cursor Parse(string? id)
        {
            if (string.IsNullOrEmpty(id))
            {
                return new(null, false, null, null, false);
            }

            if (id == End)
            {
                return new(null, true, null, null, true);
            }

            if (id.StartsWith("queued.", StringComparison.Ordinal) && int.TryParse(id["queued.".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int position))
            {
                return new(position, false, null, null, false);
            }

            if (id == TurnEvents.Started)
            {
                return new(null, true, null, null, false);
            }

            // A chunk's id (attempt.place) or a reset's (attempt.reset): the attempt, and the chunk if there was one.
            int dot = id.IndexOf('.', StringComparison.Ordinal);
            return dot > 0
                ? new(null, true, id[..dot], id.EndsWith(".reset", StringComparison.Ordinal) ? null : id, false)
                : new(null, false, null, null, false);
        }
    }
}
