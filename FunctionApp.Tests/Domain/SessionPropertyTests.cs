using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Domain;

/// <summary>
/// Random interleavings of everything that can reach a session, as the platform may deliver it (duplicates,
/// stale and late results included), checking after every step what the session promises.
/// </summary>
public class SessionPropertyTests
{
    enum Op { Enqueue, EnqueueDuplicate, EnqueueConflict, CompleteActive, FailActive, ExpireActive, Cancel, StaleResult, StaleRun, ConfirmArchive, FailArchive, RetentionCheck, Delete, RedeliverAfterDelete }

    // Text the serializer escapes or widens: markup, quotes, non-ASCII, control characters.
    const string Awkward = "<&'\"é漢😀\u0001\n";

    static readonly SessionLimits Bounded = Limits with { MaxWorkingTurns = 4, MaxWorkingBytes = 2_000, IdleRetention = TimeSpan.FromDays(1) };

    [Property(MaxTest = 1000)]
    public Property Invariants_hold_after_every_step_of_any_interleaving() =>
        Prop.ForAll(Gen.ListOf(Gen.Zip(Gen.Elements(Enum.GetValues<Op>()), Gen.Choose(0, 1000))).ToArbitrary(), steps =>
        {
            var state = ChatSessionState.Empty;
            var accepted = new Dictionary<string, string>(); // turn id -> message, for turns the session took
            var archive = new SortedDictionary<long, TranscriptTurn>(); // what the archive has confirmed
            ArchiveStart? writing = null;
            var now = T0;
            int fresh = 0;
            var beforeDelete = new List<TurnRequest>(); // requests accepted before the last delete: never to come back
            foreach (var (op, pick) in steps)
            {
                now = now.AddSeconds(1);
                // Idempotency covers the turns the session still knows: its working set and its window of archived ids.
                var known = accepted.Keys.Where(k => SessionQueries.FindMessageHash(state, k) is not null).ToList();
                var everAccepted = accepted.Keys.ToList();
                string? someKnown = known.Count == 0 ? null : known[pick % known.Count];
                Transition result;
                switch (op)
                {
                    case Op.Enqueue:
                        string id = $"t{fresh++}";
                        string text = $"message {id} " + string.Concat(Enumerable.Repeat(Awkward, pick % 40));
                        var request = Request(id, text) with { AcceptedAt = now };
                        result = SessionTransitions.Enqueue(state, request, now, Bounded);
                        Check(result.Note is TransitionNote.Applied or TransitionNote.QueueFull, "a new turn is taken or refused");
                        if (result.Note == TransitionNote.Applied)
                        {
                            accepted[id] = text;
                            beforeDelete.Add(request);
                        }
                        else
                        {
                            Check(SessionQueries.FindMessageHash(result.State, id) is null, "a refused request stores no turn");
                        }

                        break;
                    case Op.EnqueueDuplicate when someKnown is not null:
                        result = SessionTransitions.Enqueue(state, Request(someKnown, accepted[someKnown]) with { AcceptedAt = now }, now, Bounded);
                        Check(result.Note == TransitionNote.Duplicate && result.State == Seen(state, result.State), "a duplicate changes nothing but how far a delete reaches");
                        break;
                    case Op.EnqueueConflict when someKnown is not null:
                        result = SessionTransitions.Enqueue(state, Request(someKnown, "other " + pick) with { AcceptedAt = now }, now, Bounded);
                        Check(result.Note == TransitionNote.Conflict && result.State == Seen(state, result.State), "a conflict changes nothing but how far a delete reaches");
                        break;
                    case Op.CompleteActive when state.Active is { } active:
                        result = SessionTransitions.Complete(state, Completion(active.Turn.TurnId, $"answer {active.Turn.TurnId}"), now, Bounded);
                        break;
                    case Op.FailActive when state.Active is { } active:
                        result = SessionTransitions.Fail(state, new TurnFailure(active.Turn.TurnId, "llm.server_error", "boom", now), now, Bounded);
                        break;
                    case Op.ExpireActive when state.ExpiryCheckAt is { } expiryAt:
                        // The signal comes when it likes: up to a second early, or late.
                        now = Later(now, expiryAt + TimeSpan.FromMilliseconds((pick % 3000) - 1000));
                        result = SessionTransitions.Expire(state, new TurnExpiry(state.Active?.Turn.TurnId ?? "") { At = expiryAt }, now, Bounded);
                        Check(result.Note is TransitionNote.Applied or TransitionNote.Rearmed, "the armed expiry signal is never dropped");
                        Check(result.State.Active is null || result.State.ExpiryCheckAt is not null, "a running turn always has an expiry signal on its way");
                        break;
                    case Op.Cancel when everAccepted.Count > 0:
                        someKnown = everAccepted[pick % everAccepted.Count];
                        result = SessionTransitions.Cancel(state, new TurnCancellation(someKnown), now, Bounded);
                        break;
                    case Op.StaleResult when someKnown is not null && state.Active?.Turn.TurnId != someKnown:
                        result = SessionTransitions.Complete(state, Completion(someKnown), now, Bounded);
                        Check(ReferenceEquals(result.State, state), "a stale result changes nothing");
                        break;
                    case Op.StaleRun when state.Active is { } running:
                        // The running turn's id, from another incarnation (the same id used before a delete).
                        var old = Completion(running.Turn.TurnId, "answer from an older life") with { Run = $"{state.Generation + 1}.{running.Turn.Sequence}" };
                        result = SessionTransitions.Complete(state, old, now, Bounded);
                        Check(ReferenceEquals(result.State, state), "a result of another incarnation changes nothing");
                        break;
                    case Op.ConfirmArchive when writing is not null:
                        foreach (var turn in writing.Turns)
                        {
                            archive[turn.Sequence] = turn;
                        }

                        result = SessionTransitions.ConfirmArchived(state, new ArchiveReport(writing.BatchId, writing.ThroughSequence), now, Bounded);
                        writing = null;
                        break;
                    case Op.FailArchive when writing is not null:
                        result = SessionTransitions.ArchiveFailed(state, new ArchiveReport(writing.BatchId, writing.ThroughSequence), now, Bounded);
                        writing = null;
                        break;
                    case Op.RetentionCheck when state.RetentionCheckAt is { } checkAt:
                        now = Later(now, checkAt + TimeSpan.FromMilliseconds((pick % 3000) - 1000));
                        result = SessionTransitions.RetentionCheck(state, new RetentionDue(checkAt), now, Bounded);
                        Check(result.Note != TransitionNote.Deleted || (state.Active is null && state.Pending.Count == 0), "a busy session is never expired");
                        Check(result.Note != TransitionNote.Deleted || state.IsTombstone || now >= state.LastActivityAt + Bounded.IdleRetention, "an idle session is not deleted before its retention, not even by a second");
                        Check((result.State.IsEmpty && !result.State.IsTombstone) || result.State.RetentionCheckAt is not null, "a session with words, or a tombstone, always has its retention signal on its way");
                        if (result.Note == TransitionNote.Deleted && !state.IsTombstone)
                        {
                            accepted.Clear();
                            archive.Clear();
                            writing = null;
                        }

                        break;
                    case Op.Delete:
                        now = now.AddMilliseconds(1);
                        result = SessionTransitions.Delete(state, new SessionDeletion(now), now, Bounded);
                        Check(result.DeleteArchive || (result.Note == TransitionNote.Stale && result.State.DeletedAt == state.DeletedAt), "deleting a session (even one with nothing taken yet) sweeps its archive and stored words");
                        Check(result.Purge.Turns.Select(t => t.TurnId).Order().SequenceEqual(state.Turns.Select(t => t.TurnId).Concat(state.Active is { } a ? [a.Turn.TurnId] : []).Order()),
                            "deleting a session purges the orchestration of every turn it still holds");
                        accepted.Clear();
                        archive.Clear();
                        writing = null;
                        break;
                    case Op.RedeliverAfterDelete when state.DeletedAt is { } deletedAt && beforeDelete.FirstOrDefault(r => r.AcceptedAt <= deletedAt) is { } late:
                        result = SessionTransitions.Enqueue(state, late, now, Bounded);
                        Check(result.Note == TransitionNote.Deleted && ReferenceEquals(result.State, state), "a request accepted before a delete never comes back");
                        break;
                    default:
                        continue;
                }

                if (result.Start is { } start)
                {
                    Check(result.State.Active?.Turn.TurnId == start.TurnId, "the started turn is the active one");
                    Check(start.History.SequenceEqual(SessionQueries.Conversation(Branches.LineFrom(result.State, result.State.Active!.Turn.Sequence - 1).Line)), "a turn starts with the conversation as it stands");
                }

                if (result.Archive is { } started)
                {
                    Check(writing is null || state.Archiving is null || now - state.Archiving.StartedAt >= Bounded.ArchiveTimeout, "one archive write at a time");
                    Check(started.Turns.All(t => result.State.Turns.Contains(t)), "archived turns stay until confirmed");
                    writing = started;
                }

                state = result.State;
                bool settles = result.Note is TransitionNote.Applied or TransitionNote.QueueFull && op is not (Op.FailArchive or Op.RetentionCheck);
                CheckInvariants(state, accepted, archive, settles);
            }

            return true;
        });

    static void CheckInvariants(ChatSessionState state, Dictionary<string, string> accepted, SortedDictionary<long, TranscriptTurn> archive, bool settled)
    {
        Check(archive.Keys.SequenceEqual(Enumerable.Range(1, (int)state.ArchivedThrough).Select(i => (long)i)), "the archive holds exactly the turns 1..ArchivedThrough");
        var places = archive.Values.Where(t => !state.Turns.Any(s => s.Sequence == t.Sequence)).Select(t => (t.TurnId, t.Message))
            .Concat(state.Turns.Select(t => (t.TurnId, t.Message)))
            .Concat(state.Pending.Select(t => (t.TurnId, t.Message)))
            .Concat(state.Active is { } a ? [(a.Turn.TurnId, a.Turn.Message)] : [])
            .ToList();

        Check(places.Count == places.Select(p => p.TurnId).Distinct().Count(), "no turn is stored twice");
        Check(places.Count == accepted.Count && places.All(p => accepted.TryGetValue(p.TurnId, out var m) && m == p.Message), "every accepted message is stored once, unchanged");
        Check(state.Pending.Count <= Limits.MaxPendingTurns, "the queue stays within its bound");
        Check(state.Turns.Zip(state.Turns.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), "the working set stands in sequence order");
        Check(state.Turns.All(t => t.Sequence > state.ArchivedThrough), "no confirmed turn stays in the working set");
        long firstUnfinished = new[] { state.Active?.Turn.Sequence ?? long.MaxValue }.Concat(state.Pending.Select(p => p.Sequence)).Min();
        bool withinBounds = state.Turns.Count <= Bounded.MaxWorkingTurns && state.Turns.Sum(SessionTransitions.TurnBytes) <= Bounded.MaxWorkingBytes;
        // A failed write waits for the next change that settles the session (no hot retry loop).
        Check(!settled || state.Archiving is not null || withinBounds || state.Turns.All(t => t.Sequence > firstUnfinished), "an outgrown working set is being archived");
        Check(state.Pending.Count == 0 || state.Active is not null, "a session with a queue is never idle");

        var all = archive.Values.Concat(state.Turns.Where(t => t.Sequence > state.ArchivedThrough)).ToList();
        var completed = all.Where(t => t.Status == TurnStatus.Completed).Select(t => t.Sequence).ToList();
        Check(completed.SequenceEqual(completed.Order()), "completed turns stand in acceptance order");
        Check(all.Where(t => t.Status == TurnStatus.Completed).All(t => t.Answer == $"answer {t.TurnId}"), "each reply belongs to its own turn");
        Check(state.Active is null || state.Pending.All(p => p.Sequence > state.Active.Turn.Sequence), "queued turns were accepted after the running one");
    }

    static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>The state as it was, having seen the request: only the newest acceptance a delete reaches may move.</summary>
    static ChatSessionState Seen(ChatSessionState before, ChatSessionState after) =>
        after.NewestAcceptedAt >= before.NewestAcceptedAt || before.NewestAcceptedAt is null ? before with { NewestAcceptedAt = after.NewestAcceptedAt } : before;

    static void Check(bool condition, string promise)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Broken: " + promise);
        }
    }
}
