using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Turns;

namespace FunctionsChat.Benchmarks;

/// <summary>
/// The largest durable payload a session produces over its whole life, in bytes as the worker serializes it: the
/// entity state after every operation, the Enqueue signal, each turn's orchestration and model-activity input, the
/// model's reply and the turn's report, and each archive batch. Worst-case inputs: messages at the 32 KiB limit, or
/// just short enough to travel inline, of characters the serializer escapes six-fold; answers of both kinds; ids of
/// 128 characters; a trace context on every request; the archive confirming every batch.
/// </summary>
public static class Payloads
{
    const int MaxMessageBytes = 32 * 1024;
    static readonly string SessionKey = new('k', 180);

    public static (int Bytes, string What) Largest(int turns)
    {
        var limits = SessionLimits.Default;
        var retry = RetrySchedule.Default;
        var state = ChatSessionState.Empty;
        var largest = (Bytes: 0, What: "");
        void Measure<T>(T payload)
        {
            int bytes = PayloadBudget.Bytes(payload);
            if (bytes > largest.Bytes)
            {
                largest = (bytes, typeof(T).Name);
            }
        }

        Transition Apply(Transition transition)
        {
            Measure(transition.State);
            if (transition.Start is { } start)
            {
                var input = ChatTurnInput.For(SessionKey, start, retry);
                Measure(input);
                Measure(ReplyRequest.For(input));
            }

            if (transition.Archive is { } archive)
            {
                Measure(ArchiveInput.For(SessionKey, archive, retry));
                Measure(new ArchiveWork(SessionKey, archive.Turns));
            }

            state = transition.State;
            return transition;
        }

        for (int i = 1; i <= turns; i++)
        {
            var at = Sessions.Start.AddMinutes(i);
            string message = Text(i, MaxMessageBytes);
            var request = TurnRequest.For("session123", $"turn-{i:D6}-".PadRight(SessionIds.MaxLength, '~'), message, at) with
            {
                TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            };
            Measure(request);
            Apply(SessionTransitions.Enqueue(state, request, at, limits));
            if (state.Active is not { } running)
            {
                continue;
            }

            string answer = Text(i + 1, 64 * 1024);
            var reply = new ModelReply(StoredText.Inline(answer), "gpt-5.4-mini-2026-03-17", new TokenUsage(99_999, 9_999), "stop")
            {
                TextRef = TextKeys.Answer(running.Turn.AcceptedAt, Fingerprint.Of(answer)),
            };
            Measure(reply);
            var completion = new TurnCompletion(running.Turn.TurnId, reply.Text, reply.Model, reply.Usage, at.AddSeconds(3))
            {
                Run = SessionQueries.RunOf(state, running.Turn.Sequence),
                AnswerRef = reply.TextRef,
                Warning = ErrorCodes.SummaryFailed + ": " + ModelFailure.ServerError,
            };
            Measure(completion);
            if (Apply(SessionTransitions.Complete(state, completion, at.AddSeconds(3), limits)).Archive is { } batch)
            {
                Apply(SessionTransitions.ConfirmArchived(state, new ArchiveReport(batch.BatchId, batch.ThroughSequence), at.AddSeconds(4), limits));
            }
        }

        return largest;
    }

    // Odd turns at the limit, even ones just short of travelling by reference; '<' is written as a six-byte escape.
    static string Text(int i, int limitBytes) => new('<', i % 2 == 1 ? limitBytes : (PayloadBudget.InlineTextBytes - PayloadBudget.EmptyTextBytes) / (PayloadBudget.TextBytes("<") - PayloadBudget.EmptyTextBytes));
}
