using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using FunctionsChat.Archive;
using FunctionsChat.Domain;

namespace FunctionsChat.Http;

/// <summary>
/// A whole session as server-sent events, for every window open on it: turns <c>queued</c> (by any window),
/// <c>started</c>, the running answer's <c>delta</c>s (a <c>reset</c> first when a retried attempt starts over), then
/// <c>completed</c>, <c>failed</c> or <c>cancelled</c>, and <c>deleted</c> when the session is.
/// <para>
/// One order for every window: turn events carry the numbers the session gave them (<see cref="SessionEventLog"/>),
/// and each chunk of an answer the number of the newest event its writer had seen, so a chunk goes after that event
/// and before the next. A turn event that happens while an answer streams waits until the answer's stream has moved
/// past it (its next chunk, within <see cref="Turns.TurnWatch.StopCheck"/> of a flush) or ended.
/// </para>
/// <para>
/// Every event's id names the reader's place (<c>life.event[.attempt.chunk]</c>); given the last one seen, the events go
/// on right after it. A reader that names none starts before the oldest turn still under way. One that fell behind
/// turns since archived gets <c>sync</c> (reload the history) and goes on from there. Reads back off from 100 ms to
/// 1 s while nothing changes; the events end at <see cref="TurnEvents.MaxDuration"/> and the reader reconnects.
/// </para>
/// </summary>
public sealed class SessionEvents(ITurnStreams streams, ITranscriptArchive archive, TimeProvider clock)
{
    public async IAsyncEnumerable<SseItem<string>> ReadAsync(
        Func<CancellationToken, Task<ChatSessionState?>> read,
        string sessionKey,
        string sessionId,
        string? lastEventId,
        [EnumeratorCancellation] CancellationToken cancellation)
    {
        var place = Place.Parse(lastEventId);
        var until = clock.GetUtcNow() + TurnEvents.MaxDuration;
        var wait = TurnEvents.FirstPoll;
        while (clock.GetUtcNow() < until)
        {
            var state = await read(cancellation) ?? ChatSessionState.Empty;
            var events = new List<SseItem<string>>();
            place = await StepAsync(state, place ?? Place.Fresh(state), events, sessionKey, sessionId, cancellation);
            foreach (var item in events)
            {
                yield return item;
            }

            wait = TurnEvents.NextPoll(wait, events.Count > 0);
            await Task.Delay(wait, clock, cancellation);
        }
    }

    /// <summary>Adds every event the state (and the running answer's stream) holds after <paramref name="place"/>; returns the new place.</summary>
    async Task<Place> StepAsync(ChatSessionState state, Place place, List<SseItem<string>> events, string sessionKey, string sessionId, CancellationToken cancellation)
    {
        bool alive = !state.IsTombstone && !state.IsVoid;
        if (!place.Deleted && (state.Generation != place.Life || !alive))
        {
            place = new(place.Life, 0, null, null, Deleted: true);
            events.Add(TurnEvents.Event("deleted", new { sessionId }, place.Id));
        }

        if (place.Deleted)
        {
            if (!alive)
            {
                return place;
            }

            place = new(state.Generation, 0, null, null, false);
        }

        // Each answer's stream is read once a round, however many events come between its chunks.
        var read = new Dictionary<string, IReadOnlyList<StreamChunk>>();
        var log = SessionEventLog.After(state, place.Event);
        if (SessionEventLog.MissingThrough(state, place.Event, log) is var missing && missing > place.Event)
        {
            place = new(place.Life, missing, null, null, false);
            events.Add(TurnEvents.Event("sync", new { sessionId, history = ChatRoutes.HistoryUrl(sessionId) }, place.Id));
            log = [.. log.Where(e => e.Number > missing)];
        }

        foreach (var next in log)
        {
            var running = SessionEventLog.RunningAfter(state, place.Event);
            bool finishing = next.Kind == LifecycleKind.Finished && next.TurnId == running?.TurnId;
            if (running is not null)
            {
                (place, bool passed) = await ChunksAsync(state, running, place, finishing ? null : next.Number, events, read, sessionKey, cancellation);
                if (!passed)
                {
                    return place;
                }
            }

            // A turn's start or end begins a new stretch of stream; anything else happens beside the running answer.
            place = next.Kind == LifecycleKind.Started || finishing ? new(place.Life, next.Number, null, null, false) : place with { Event = next.Number };
            events.Add(await LifecycleAsync(state, next, place.Id, sessionKey, sessionId, cancellation));
        }

        if (SessionEventLog.RunningAfter(state, place.Event) is { } stillRunning)
        {
            (place, _) = await ChunksAsync(state, stillRunning, place, null, events, read, sessionKey, cancellation);
        }

        return place;
    }

    /// <summary>
    /// Adds the running turn's chunks that come before event <paramref name="before"/> (all it has, when null: up to
    /// what the state read has seen, or, for a turn that has finished, its accepted attempt). Passed is whether no
    /// chunk still to be written can come before that event. The stream is read once a round (<paramref name="read"/>):
    /// within a round a reader's place only moves on, so later calls take what follows it from the same rows.
    /// </summary>
    async Task<(Place Place, bool Passed)> ChunksAsync(ChatSessionState state, RunningTurn turn, Place place, long? before, List<SseItem<string>> events, Dictionary<string, IReadOnlyList<StreamChunk>> read, string sessionKey, CancellationToken cancellation)
    {
        string? accepted = turn.Finished?.Attempt;
        // Before the next event; for a finished turn, before its end; for a running one, what the state read has seen.
        long end = before ?? turn.FinishedEvent ?? (state.Events + 1);
        string stream = StreamKeys.Of(turn.AcceptedAt, turn.TurnId);
        string? after = StreamKeys.ResumeAfter(accepted, place.Attempt, place.Chunk);
        if (!read.TryGetValue(stream, out var rows))
        {
            read[stream] = rows = await streams.ReadAsync(sessionKey, stream, after, cancellation);
        }

        // Event ids sort as their rows do (fixed-width attempts and places).
        var chunks = rows.Where(c => after is null || string.CompareOrdinal(c.EventId, after) > 0);
        bool passed = turn.FinishedEvent is not null;
        foreach (var chunk in chunks)
        {
            if (accepted is not null && chunk.Attempt != accepted)
            {
                continue;
            }

            if (chunk.After >= end)
            {
                // Written after the writer saw that event: the stream has moved past it.
                passed = true;
                break;
            }

            if (place.Attempt is not null && chunk.Attempt != place.Attempt)
            {
                events.Add(TurnEvents.Event("reset", new { turnId = turn.TurnId, attempt = chunk.Attempt }, (place with { Attempt = chunk.Attempt, Chunk = null }).Id));
            }

            place = place with { Attempt = chunk.Attempt, Chunk = chunk.EventId };
            if (chunk.Text.Length > 0)
            {
                events.Add(TurnEvents.Event("delta", new { turnId = turn.TurnId, text = chunk.Text }, place.Id));
            }
        }

        return (place, passed || before is null);
    }

    async Task<SseItem<string>> LifecycleAsync(ChatSessionState state, LifecycleEvent e, string id, string sessionKey, string sessionId, CancellationToken cancellation)
    {
        switch (e.Kind)
        {
            case LifecycleKind.Queued:
                var queued = state.Pending.FirstOrDefault(p => p.TurnId == e.TurnId) ?? (state.Active?.Turn.TurnId == e.TurnId ? state.Active.Turn : null);
                string message = queued is not null
                    ? await StoredTexts.ReadAsync(archive, sessionKey, queued.Message, queued.MessageRef, cancellation)
                    : state.Turns.FirstOrDefault(t => t.TurnId == e.TurnId) is { } done ? await StoredTexts.ReadAsync(archive, sessionKey, done.Message, done.MessageRef, cancellation) : "";
                // A regenerated or edited turn begins a branch line of its own: windows read the history again once it has finished.
                bool variant = (queued?.Branch ?? state.Turns.FirstOrDefault(t => t.TurnId == e.TurnId)?.Branch) == e.Sequence;
                return variant
                    ? TurnEvents.Event("queued", new { turnId = e.TurnId, sequence = e.Sequence, message, variant }, id)
                    : TurnEvents.Event("queued", new { turnId = e.TurnId, sequence = e.Sequence, message }, id);
            case LifecycleKind.Started:
                return TurnEvents.Event(TurnEvents.Started, new { turnId = e.TurnId, sequence = e.Sequence }, id);
            case LifecycleKind.Branched:
                return TurnEvents.Event("branched", new { sessionId, head = e.Sequence, history = ChatRoutes.HistoryUrl(sessionId) }, id);
            default:
                // A finished event comes from a finished turn of this very state.
                var turn = await SessionStore.FindTurnAsync(archive, sessionKey, state, e.TurnId, cancellation);
                return TurnEvents.Final(sessionId, turn!, id)!.Value;
        }
    }

    /// <summary>
    /// How far a reader got: the session's life and its newest event the reader saw, the chunk of the answer running
    /// after it that the reader saw last (its attempt alone right after a reset), or the life's deletion.
    /// </summary>
    sealed record Place(long Life, long Event, string? Attempt, string? Chunk, bool Deleted)
    {
        public const string DeletedMark = "deleted";

        public string Id => Deleted
            ? $"{Life.ToString(CultureInfo.InvariantCulture)}.{DeletedMark}"
            : $"{Life.ToString(CultureInfo.InvariantCulture)}.{Event.ToString(CultureInfo.InvariantCulture)}"
              + (Attempt is null ? "" : Chunk is null ? $".{Attempt}.reset" : $".{Chunk}");

        /// <summary>A reader that names no event: before what is under way; a session with no life yet waits for one.</summary>
        public static Place Fresh(ChatSessionState state) =>
            new(state.Generation, SessionEventLog.FreshStart(state), null, null, Deleted: state.IsTombstone || state.IsVoid);

        public static Place? Parse(string? id)
        {
            string[] parts = (id ?? "").Split('.');
            if (parts.Length < 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long life))
            {
                return null;
            }

            if (parts is [_, DeletedMark])
            {
                return new(life, 0, null, null, true);
            }

            if (!long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long number))
            {
                return null;
            }

            return parts switch
            {
                [_, _] => new(life, number, null, null, false),
                [_, _, var attempt, "reset"] => new(life, number, attempt, null, false),
                [_, _, var attempt, var chunk] => new(life, number, attempt, $"{attempt}.{chunk}", false),
                _ => null,
            };
        }
    }
}
