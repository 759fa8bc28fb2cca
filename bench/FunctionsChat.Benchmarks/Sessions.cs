using System.Text.Json;
using FunctionsChat.Domain;

namespace FunctionsChat.Benchmarks;

/// <summary>Sessions of a given length, built through the real transitions, as the entity would store them.</summary>
public static class Sessions
{
    public static readonly DateTimeOffset Start = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    // The isolated worker's default serializer is System.Text.Json (through Azure.Core's JsonObjectSerializer)
    // with case-insensitive property names; entity state goes through it on every operation.
    public static readonly JsonSerializerOptions WorkerJson = new() { PropertyNameCaseInsensitive = true };

    public static SessionLimits Limits(bool bounded) => SessionLimits.Default with { Archives = bounded };

    /// <summary>A session that has finished <paramref name="turns"/> turns and is running one more.</summary>
    public static ChatSessionState Build(int turns, bool bounded)
    {
        if (!bounded)
        {
            // The whole transcript in state, as a single state key holding every message keeps it.
            var all = Enumerable.Range(1, turns).Select(i => new TranscriptTurn($"turn-{i:D6}", i, TurnStatus.Completed, Question(i), Fingerprint.Of(Question(i)), Start.AddMinutes(i), Start.AddMinutes(i).AddSeconds(3))
            {
                Answer = Answer(i),
                Model = "gpt-4o-mini-2024-07-18",
                Usage = new TokenUsage(900 + i, 180),
            }).ToArray();
            var next = Start.AddMinutes(turns + 1);
            var running = SessionTransitions.Enqueue(ChatSessionState.Empty with { NextSequence = turns + 1 }, new TurnRequest("session123", $"turn-{turns + 1:D6}", Question(turns + 1), next), next, Limits(false)).State;
            return running with { Turns = all };
        }

        var limits = Limits(bounded);
        var state = ChatSessionState.Empty;
        for (int i = 1; i <= turns + 1; i++)
        {
            var at = Start.AddMinutes(i);
            state = SessionTransitions.Enqueue(state, TurnRequest.For("session123", $"turn-{i:D6}", Question(i), at), at, limits).State;
            if (i > turns)
            {
                break;
            }

            var completion = new TurnCompletion($"turn-{i:D6}", Answer(i), "gpt-4o-mini-2024-07-18", new TokenUsage(900 + i, 180), at.AddSeconds(3))
            {
                AnswerRef = TextKeys.Answer(at, Fingerprint.Of(Answer(i))),
            };
            var done = SessionTransitions.Complete(state, completion, at.AddSeconds(3), limits);
            state = done.State;
            if (done.Archive is { } archive)
            {
                state = SessionTransitions.ConfirmArchived(state, new ArchiveReport(archive.BatchId, archive.ThroughSequence), at.AddSeconds(4), limits).State;
            }
        }

        return state;
    }

    public static string Question(int i) => $"Question {i}: how does durable execution keep step {i} of a long workflow safe when the process crashes halfway?";

    public static string Answer(int i) =>
        $"Answer {i}: " + string.Join(' ', Enumerable.Repeat("Each completed step is recorded before the next one starts, so a restart replays the record instead of redoing the work.", 4));
}
