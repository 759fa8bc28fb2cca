using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Turns;
using Microsoft.Extensions.Logging.Abstractions;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Sessions;

/// <summary>
/// Every durable payload stays within <see cref="PayloadBudget.MaxBytes"/> serialized bytes, measured with the worker's
/// serializer, under the worst inputs the API lets through: messages at the size limit (or just short of travelling
/// by reference) of characters the serializer writes as six-byte escapes, the longest ids, a full queue, long answers,
/// model names and error messages, and an archive that falls behind or fails.
/// </summary>
public class PayloadBoundTests
{
    enum Op { Enqueue, Complete, Fail, Cancel, Expire, ConfirmArchive, FailArchive, Delete }

    // Characters the serializer escapes (six bytes each), and ones that take several UTF-8 bytes.
    static readonly string[] Units = ["<", "&", "'", "é", "\u0001", "漢", "😀", "<&'é\u0001"];

    const int MaxMessageBytes = 32 * 1024;

    const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    static readonly string SessionKey = new('k', 180);

    static readonly SessionLimits Worst = SessionLimits.Default;

    [Property(MaxTest = 60)]
    public Property The_state_and_every_payload_stay_within_the_bound_under_any_interleaving_of_worst_case_inputs() =>
        Prop.ForAll(Gen.ListOf(Gen.Zip(Gen.Frequency((6, Gen.Constant(Op.Enqueue)), (3, Gen.Constant(Op.Complete)), (1, Gen.Elements(Enum.GetValues<Op>()))), Gen.Choose(0, 10_000))).ToArbitrary(), steps =>
        {
            var state = ChatSessionState.Empty;
            var now = T0;
            ArchiveStart? writing = null;
            int fresh = 0;
            // After the steps, a liveness phase: the archive catches up with what it was writing, and a full queue arrives.
            foreach (var (op, pick) in steps.Append((Op.ConfirmArchive, 0)).Concat(Enumerable.Repeat((Op.Enqueue, 0), 70)))
            {
                now = now.AddSeconds(1);
                Transition? result = op switch
                {
                    Op.Enqueue => SessionTransitions.Enqueue(state, Checked(TurnRequest.For("s", Id(fresh++), Text(pick), now) with { TraceParent = TraceParent }), now, Worst),
                    Op.Complete when state.Active is { } a => SessionTransitions.Complete(state, Checked(Completion(state, a.Turn, pick, now)), now, Worst),
                    Op.Fail when state.Active is { } a => SessionTransitions.Fail(state, Checked(Failure(state, a.Turn, pick, now)), now, Worst),
                    Op.Cancel when state.Pending.Count > 0 => SessionTransitions.Cancel(state, new TurnCancellation(state.Pending[pick % state.Pending.Count].TurnId), now, Worst),
                    Op.Expire when state.ExpiryCheckAt is { } at => SessionTransitions.Expire(state, new TurnExpiry(state.Active?.Turn.TurnId ?? "") { At = at }, at, Worst),
                    Op.ConfirmArchive when writing is not null => SessionTransitions.ConfirmArchived(state, new ArchiveReport(writing.BatchId, writing.ThroughSequence), now, Worst),
                    Op.FailArchive when writing is not null => SessionTransitions.ArchiveFailed(state, new ArchiveReport(writing.BatchId, writing.ThroughSequence), now, Worst),
                    Op.Delete when pick % 10 == 0 => SessionTransitions.Delete(state, new SessionDeletion(now), now, Worst),
                    _ => null,
                };
                if (result is null)
                {
                    continue;
                }

                writing = op is Op.ConfirmArchive or Op.FailArchive or Op.Delete ? null : writing;
                writing = result.Archive ?? writing;
                state = Carried(result);
            }

            // The full queue is taken up to the room there is once the archive has caught up, and every turn can still start
            // (as stored, 19 finished turns under the longest ids and notes fill the room while a batch is being written).
            return state.Pending.Count + (state.Active is null ? 0 : 1) > 0;
        });

    [Fact]
    public void A_queue_of_32_KiB_messages_of_escaped_text_under_the_longest_ids_takes_what_its_stored_form_has_room_for_then_refuses()
    {
        // 64 such turns would be over 75 KB as the backend stores them: the queue ends where the room does, not at 64.
        var state = ChatSessionState.Empty;
        int taken = 0;
        for (int i = 0; i < 66; i++)
        {
            var request = TurnRequest.For("s", Id(i), new string('<', MaxMessageBytes), T0.AddSeconds(i)) with { TraceParent = TraceParent };
            var result = SessionTransitions.Enqueue(state, Checked(request), T0.AddSeconds(i), Worst);
            if (result.Note == TransitionNote.Applied)
            {
                // Nothing is taken once a request has been refused for room.
                Assert.Equal(i, taken++);
            }
            else
            {
                Assert.Equal(TransitionNote.QueueFull, result.Note);
            }

            state = Carried(result);
        }

        Assert.InRange(taken, 24, 64);
        Assert.Equal(taken - 1, state.Pending.Count);
        Assert.True(PayloadBudget.Bytes(state) <= PayloadBudget.MaxBytes, $"{PayloadBudget.Bytes(state)} bytes");
    }

    [Fact]
    public void Past_the_room_the_state_has_a_request_is_refused_429_and_the_archive_is_asked_to_catch_up()
    {
        var limits = Worst with { MaxPendingTurns = 10_000 };
        var state = ChatSessionState.Empty;
        Transition result;
        int i = 0;
        do
        {
            var request = TurnRequest.For("s", Id(i), new string('<', MaxMessageBytes), T0.AddSeconds(i)) with { TraceParent = TraceParent };
            result = SessionTransitions.Enqueue(state, request, T0.AddSeconds(i), limits);
            state = Carried(result);
            if (state.Active is { } running && i % 2 == 0)
            {
                state = Carried(SessionTransitions.Complete(state, Completion(state, running.Turn, 1, T0.AddSeconds(i)), T0.AddSeconds(i), limits));
            }
        }
        while (result.Note == TransitionNote.Applied && ++i < 500);

        Assert.Equal(TransitionNote.QueueFull, result.Note);
        Assert.InRange(i, 16, 200);
        var refused = TurnRequest.For("s", Id(i), new string('<', MaxMessageBytes), T0.AddSeconds(i));
        Assert.Equal(ReceiptStatus.Refused, SessionQueries.ReceiptOf(state, refused).Status);
        Assert.False(StateBudget.HasRoom(result.State with { Pending = [.. result.State.Pending, result.State.Pending[^1]] }, limits));
        Assert.True(PayloadBudget.Bytes(state) <= PayloadBudget.MaxBytes);
        Assert.NotNull(state.Archiving);

        // Once the archive holds the finished turns, there is room again.
        state = Carried(SessionTransitions.ConfirmArchived(state, new ArchiveReport(state.Archiving!.BatchId, state.Archiving.ThroughSequence), T0.AddSeconds(i), limits));
        var retried = TurnRequest.For("s", Id(i), new string('<', MaxMessageBytes), T0.AddSeconds(i + 1));
        Assert.Equal(TransitionNote.Applied, SessionTransitions.Enqueue(state, retried, T0.AddSeconds(i + 1), limits).Note);
    }

    [Fact]
    public void A_turn_input_for_a_32_KiB_message_of_accented_text_carries_it_by_reference()
    {
        string message = new('é', MaxMessageBytes / 2);
        var request = TurnRequest.For("s", Id(1), message, T0);
        var context = new RecordingEntityContext(SessionKey);

        SessionStep.Carry(context.Object, SessionTransitions.Enqueue(ChatSessionState.Empty, request, T0, Worst), RetrySchedule.Default, NullLogger.Instance);

        var input = Assert.IsType<ChatTurnInput>(context.Scheduled.Single().Input);
        Assert.Equal(("", TextKeys.Message(T0, Fingerprint.Of(message))), (input.Message, input.MessageRef));
        Assert.True(PayloadBudget.Bytes(input) < 2_000, $"{PayloadBudget.Bytes(input)} bytes");
    }

    [Fact]
    public void A_working_set_of_long_accented_turns_under_long_ids_leaves_its_oldest_words_to_the_store()
    {
        var state = ChatSessionState.Empty;
        int inline = (PayloadBudget.InlineTextBytes - PayloadBudget.EmptyTextBytes) / (PayloadBudget.TextBytes("é") - PayloadBudget.EmptyTextBytes);
        for (int i = 0; i < 16; i++)
        {
            // Each just short enough to travel inline: 16 of them are over 250 KB as stored.
            string text = new('é', inline);
            state = SessionTransitions.Enqueue(state, TurnRequest.For("s", Id(i), text, T0.AddSeconds(i)), T0.AddSeconds(i), Worst with { Archives = false }).State;
            var answer = Completion(state, state.Active!.Turn, inline, T0.AddSeconds(i)) with { Model = "gpt-5.4-mini-2026-03-17" };
            state = SessionTransitions.Complete(state, answer, T0.AddSeconds(i), Worst with { Archives = false }).State;
        }

        Assert.Equal(16, state.Turns.Count);
        Assert.True(PayloadBudget.Bytes(state) <= PayloadBudget.StateTextBytes, $"{PayloadBudget.Bytes(state)} bytes");
        Assert.Equal("", state.Turns[0].Message);
        Assert.Equal(inline, state.Turns[^1].Message.Length);
        Assert.All(state.Turns, t => Assert.NotNull(t.MessageRef));
    }

    /// <summary>The transition carried out as the entity does, every payload it emits measured; the state it stores.</summary>
    static ChatSessionState Carried(Transition result)
    {
        var context = new RecordingEntityContext(SessionKey);
        var stored = SessionStep.Carry(context.Object, result, RetrySchedule.Default, NullLogger.Instance) ?? ChatSessionState.Empty;
        Assert.True(PayloadBudget.Bytes(stored) <= PayloadBudget.MaxBytes, $"the state is {PayloadBudget.Bytes(stored)} bytes");
        foreach (var (name, input, _) in context.Scheduled)
        {
            Checked(input);
            if (input is ChatTurnInput turn)
            {
                Checked(ReplyRequest.For(turn));
            }
        }

        foreach (var signal in context.Signals)
        {
            Checked(signal.Input);
        }

        return stored;
    }

    static T Checked<T>(T payload)
    {
        int bytes = PayloadBudget.Bytes(payload);
        Assert.True(bytes <= PayloadBudget.MaxBytes, $"{payload?.GetType().Name} is {bytes} serialized bytes");
        return payload;
    }

    /// <summary>A completion as the model activity reports it: the answer inline only when short, always stored.</summary>
    static TurnCompletion Completion(ChatSessionState state, QueuedTurn turn, int pick, DateTimeOffset at)
    {
        string answer = Text(pick);
        return new TurnCompletion(turn.TurnId, StoredText.Inline(answer), PayloadBudget.Clip(new string('<', 5_000), PayloadBudget.NoteBytes), new TokenUsage(long.MaxValue, long.MaxValue), at)
        {
            Run = SessionQueries.RunOf(state, turn.Sequence),
            AnswerRef = TextKeys.Answer(turn.AcceptedAt, Fingerprint.Of(answer)),
            Truncated = true,
            Warning = ErrorCodes.SummaryFailed + ": " + ModelFailure.ServerError,
        };
    }

    /// <summary>A failure as the turn reports it, from an activity failure whose message echoes an error body in full.</summary>
    static TurnFailure Failure(ChatSessionState state, QueuedTurn turn, int pick, DateTimeOffset at)
    {
        var details = new Microsoft.DurableTask.TaskFailureDetails(typeof(InvalidOperationException).FullName!, Text(pick), new string('<', 8_000), null, null);
        var failure = ModelRetry.Describe(details);
        return new TurnFailure(turn.TurnId, failure.Code, failure.Message, at) { Run = SessionQueries.RunOf(state, turn.Sequence) };
    }

    static string Id(int n) => $"t{n}-".PadRight(SessionIds.MaxLength, '~');

    /// <summary>At the size limit, just short of travelling by reference, or between; of one awkward character.</summary>
    static string Text(int pick)
    {
        string unit = Units[pick % Units.Length];
        int unitBytes = Encoding.UTF8.GetByteCount(unit);
        int count = (pick / Units.Length % 3) switch
        {
            0 => MaxMessageBytes / unitBytes,
            1 => (PayloadBudget.InlineTextBytes - PayloadBudget.EmptyTextBytes) / (PayloadBudget.TextBytes(unit) - PayloadBudget.EmptyTextBytes),
            _ => 1 + (pick % (MaxMessageBytes / unitBytes)),
        };
        return string.Concat(Enumerable.Repeat(unit, count));
    }
}
