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
    enum Op { Enqueue, EnqueueDuplicate, EnqueueConflict, CompleteActive, FailActive, ExpireActive, Cancel, StaleResult, Delete }

    [Property(MaxTest = 1000)]
    public Property Invariants_hold_after_every_step_of_any_interleaving() =>
        Prop.ForAll(Gen.ListOf(Gen.Zip(Gen.Elements(Enum.GetValues<Op>()), Gen.Choose(0, 1000))).ToArbitrary(), steps =>
        {
            var state = ChatSessionState.Empty;
            var accepted = new Dictionary<string, string>(); // turn id -> message, for turns the session took
            var now = T0;
            int fresh = 0;
            foreach (var (op, pick) in steps)
            {
                now = now.AddSeconds(1);
                var known = accepted.Keys.ToList();
                string? someKnown = known.Count == 0 ? null : known[pick % known.Count];
                Transition result;
                switch (op)
                {
                    case Op.Enqueue:
                        string id = $"t{fresh++}";
                        result = SessionTransitions.Enqueue(state, Request(id, $"message {id}"), now, Limits);
                        Check(result.Note is TransitionNote.Applied or TransitionNote.QueueFull, "a new turn is taken");
                        accepted[id] = $"message {id}";
                        break;
                    case Op.EnqueueDuplicate when someKnown is not null:
                        result = SessionTransitions.Enqueue(state, Request(someKnown, accepted[someKnown]), now, Limits);
                        Check(result.Note == TransitionNote.Duplicate && ReferenceEquals(result.State, state), "a duplicate changes nothing");
                        break;
                    case Op.EnqueueConflict when someKnown is not null:
                        result = SessionTransitions.Enqueue(state, Request(someKnown, "other " + pick), now, Limits);
                        Check(result.Note == TransitionNote.Conflict && ReferenceEquals(result.State, state), "a conflict changes nothing");
                        break;
                    case Op.CompleteActive when state.Active is { } active:
                        result = SessionTransitions.Complete(state, Completion(active.Turn.TurnId, $"answer {active.Turn.TurnId}"), now, Limits);
                        break;
                    case Op.FailActive when state.Active is { } active:
                        result = SessionTransitions.Fail(state, new TurnFailure(active.Turn.TurnId, "llm.server_error", "boom", now), now, Limits);
                        break;
                    case Op.ExpireActive when state.Active is { } active:
                        now = active.ExpiresAt;
                        result = SessionTransitions.Expire(state, new TurnExpiry(active.Turn.TurnId), now, Limits);
                        break;
                    case Op.Cancel when someKnown is not null:
                        result = SessionTransitions.Cancel(state, new TurnCancellation(someKnown), now, Limits);
                        break;
                    case Op.StaleResult when someKnown is not null && state.Active?.Turn.TurnId != someKnown:
                        result = SessionTransitions.Complete(state, Completion(someKnown), now, Limits);
                        Check(ReferenceEquals(result.State, state), "a stale result changes nothing");
                        break;
                    case Op.Delete:
                        result = SessionTransitions.Delete(state);
                        accepted.Clear();
                        break;
                    default:
                        continue;
                }

                if (result.Start is { } start)
                {
                    Check(result.State.Active?.Turn.TurnId == start.TurnId, "the started turn is the active one");
                    Check(start.History.SequenceEqual(SessionQueries.Conversation(result.State)), "a turn starts with the conversation as it stands");
                }

                state = result.State;
                CheckInvariants(state, accepted);
            }

            return true;
        });

    static void CheckInvariants(ChatSessionState state, Dictionary<string, string> accepted)
    {
        var places = state.Turns.Select(t => (t.TurnId, t.Message))
            .Concat(state.Pending.Select(t => (t.TurnId, t.Message)))
            .Concat(state.Active is { } a ? [(a.Turn.TurnId, a.Turn.Message)] : [])
            .ToList();

        Check(places.Count == places.Select(p => p.TurnId).Distinct().Count(), "no turn is stored twice");
        Check(places.Count == accepted.Count && places.All(p => accepted.TryGetValue(p.TurnId, out var m) && m == p.Message), "every accepted message is stored once, unchanged");
        Check(state.Pending.Count <= Limits.MaxPendingTurns, "the queue stays within its bound");
        Check(state.Pending.Count == 0 || state.Active is not null, "a session with a queue is never idle");

        var completed = state.Turns.Where(t => t.Status == TurnStatus.Completed).Select(t => t.Sequence).ToList();
        Check(completed.SequenceEqual(completed.Order()), "completed turns stand in acceptance order");
        Check(state.Turns.Where(t => t.Status == TurnStatus.Completed).All(t => t.Answer == $"answer {t.TurnId}"), "each reply belongs to its own turn");
        Check(state.Active is null || state.Pending.All(p => p.Sequence > state.Active.Turn.Sequence), "queued turns were accepted after the running one");
    }

    static void Check(bool condition, string promise)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Broken: " + promise);
        }
    }
}
