using System.Diagnostics;
using System.Text.Json;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Http;
using FunctionsChat.Turns;
using Microsoft.DurableTask.Entities;
using Xunit.Abstractions;

namespace FunctionsChat.Tests.Simulation;

/// <summary>
/// Seeded histories of the app under the runtime's documented faults, checking the session's promises after every
/// step and, once faults stop, that everything that should finish does. A failure names its seed and the trace's end;
/// FUNCTIONSCHAT_SIM_SEEDS and FUNCTIONSCHAT_SIM_FIRST_SEED replay or soak.
/// </summary>
public class SimulationTests(ITestOutputHelper output)
{
    static readonly string[] SessionNames = ["s1", "s2"];

    // Text the serializer escapes or widens.
    static readonly string[] Words = ["hi", "<b>&amp;</b>", "l'été", "漢字", "😀", "tab\there", "\"quoted\"", "\u0001"];

    [Fact]
    public void Promises_hold_in_every_seeded_history()
    {
        int seeds = int.TryParse(Environment.GetEnvironmentVariable("FUNCTIONSCHAT_SIM_SEEDS"), out int n) ? n : 2000;
        int first = int.TryParse(Environment.GetEnvironmentVariable("FUNCTIONSCHAT_SIM_FIRST_SEED"), out int f) ? f : 1;
        var watch = Stopwatch.StartNew();
        var totals = new Dictionary<string, int>();
        var latencies = new List<double>();
        int largest = 0;
        for (int seed = first; seed < first + seeds; seed++)
        {
            var sim = History(seed);
            largest = Math.Max(largest, sim.LargestPayload.Bytes);
            latencies.AddRange(sim.CallLatencies.Select(l => l.TotalMilliseconds));
            foreach (var (what, count) in sim.Counts)
            {
                totals[what] = totals.GetValueOrDefault(what) + count;
            }
        }

        string summary = $"simulation: {seeds} seeded histories (seeds {first}..{first + seeds - 1}) in {watch.Elapsed.TotalSeconds:0.0} s; "
            + string.Join(", ", totals.OrderBy(t => t.Key).Select(t => $"{t.Key} {t.Value}")) + $"; largest durable payload {largest} bytes"
            + $"; call answered after its turn finished (simulated time, {latencies.Count} calls): {Percentiles(latencies)}";
        output.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("FUNCTIONSCHAT_SIM_SUMMARY") is { Length: > 0 } path)
        {
            File.WriteAllText(path, summary + Environment.NewLine);
        }
    }

    static string Percentiles(List<double> values)
    {
        if (values.Count == 0)
        {
            return "none";
        }

        values.Sort();
        double At(double p) => values[(int)Math.Min(values.Count - 1, Math.Floor(p * values.Count))];
        return $"p50 {At(0.5):0} ms, p95 {At(0.95):0} ms, max {values[^1]:0} ms";
    }

    /// <summary>One seeded history: clients act while the runtime misbehaves, then faults stop and everything settles.</summary>
    static DurableSimulation History(int seed)
    {
        var probe = new Random(seed);
        // Retention off, short, or longer than the backend's longest signal delay (so its signal travels in hops).
        var retention = new[] { TimeSpan.Zero, TimeSpan.FromMinutes(10), TimeSpan.FromDays(8) }[probe.Next(3)];
        var sim = new DurableSimulation(seed, new SessionOptions
        {
            MaxPendingTurns = 3,
            MaxWorkingTurns = 4,
            MaxWorkingBytes = 2048,
            TurnTimeout = TimeSpan.FromMinutes(2),
            ModelMaxAttempts = 3,
            ModelFirstRetryInterval = TimeSpan.FromSeconds(1),
            ModelMaxRetryInterval = TimeSpan.FromSeconds(5),
            IdleRetention = retention,
        });
        // One history in sixteen is the worst case for size: messages at the size limit and long answers, all of text
        // the serializer escapes six-fold, and turn ids of the longest allowed length.
        bool worst = seed % 16 == 0;
        sim.Model.LongAnswers = worst;
        var world = new World(sim, worst);
        try
        {
            sim.AfterStep = world.CheckAlways;
            sim.OnOrchestrationDone = world.CheckVerdict;
            int actions = 4 + sim.Next(12);
            for (int a = 0; a < actions; a++)
            {
                for (int s = sim.Next(8); s > 0; s--)
                {
                    sim.Step();
                }

                world.Act();
            }

            sim.Faults = Faults.None;
            sim.RunUntil(() => false);
            world.CheckSettled();
            sim.Count(worst ? "worst-case histories" : "histories");
            return sim;
        }
        catch (Exception e)
        {
            if (Environment.GetEnvironmentVariable("FUNCTIONSCHAT_SIM_TRACE") is { Length: > 0 } tracePath)
            {
                File.WriteAllLines(tracePath, sim.Trace);
            }

            throw new InvalidOperationException(
                $"Seed {seed} broke a promise: {e.Message}{Environment.NewLine}Replay with FUNCTIONSCHAT_SIM_FIRST_SEED={seed} FUNCTIONSCHAT_SIM_SEEDS=1. Last steps:{Environment.NewLine}"
                + string.Join(Environment.NewLine, sim.Trace.TakeLast(40)), e);
        }
    }

    /// <summary>What the clients did and what they were told, and the checks over it.</summary>
    sealed class World(DurableSimulation sim, bool worst)
    {
        readonly List<Sent> sent = [];
        readonly List<(string Session, string TurnId, DateTimeOffset At, Task<Microsoft.AspNetCore.Mvc.IActionResult> Response, Task<DateTimeOffset> AnsweredAt)> calls = [];
        readonly List<(Sent Of, bool WasAccepted, DateTimeOffset At, Task<Microsoft.AspNetCore.Mvc.IActionResult> Response)> reads = [];
        readonly Dictionary<string, List<(DateTimeOffset Requested, Task<Microsoft.AspNetCore.Mvc.IActionResult> Response, DateTimeOffset? Answered)>> deletes = [];
        int fresh;

        static EntityInstanceId Entity(string sessionId) => SessionEntityIds.For(HttpHarness.Key(sessionId));

        string Text() => worst ? WorstText() : string.Join(' ', Enumerable.Range(0, 1 + sim.Next(4)).Select(_ => Words[sim.Next(Words.Length)])) + $" #{fresh}";

        /// <summary>
        /// A unique message of text the serializer escapes: at the size limit, or just short enough to travel inline
        /// (the largest payloads), or anything between.
        /// </summary>
        string WorstText()
        {
            string tag = $" #{fresh}";
            string unit = Words[1 + sim.Next(Words.Length - 1)];
            int inline = PayloadBudget.InlineTextBytes / PayloadBudget.TextBytes(unit);
            int limit = (sim.Api.MaxMessageBytes - System.Text.Encoding.UTF8.GetByteCount(tag)) / System.Text.Encoding.UTF8.GetByteCount(unit);
            int count = sim.Next(3) switch { 0 => limit, 1 => inline - 2, _ => 1 + sim.Next(limit) };
            return string.Concat(Enumerable.Repeat(unit, count)) + tag;
        }

        string NewKey() => worst ? $"k{fresh++}-".PadRight(SessionIds.MaxLength, 'x') : $"k{fresh++}";

        public void Act()
        {
            string session = SessionNames[sim.Next(SessionNames.Length)];
            var mine = sent.Where(s => s.SessionId == session).ToList();
            int roll = sim.Next(100);
            if (roll < 55 || mine.Count == 0)
            {
                string id = NewKey();
                Record(session, id, Text(), roll % 5 == 0);
                if (roll % 4 == 1)
                {
                    // Another client races the same key with another message.
                    fresh++;
                    Record(session, id, Text(), call: false);
                }
            }
            else if (roll < 68)
            {
                var again = mine[sim.Next(mine.Count)];
                Record(session, again.TurnId, again.Message, call: false);
            }
            else if (roll < 76)
            {
                sim.Cancel(session, mine[sim.Next(mine.Count)].TurnId);
            }
            else if (roll < 82)
            {
                var at = sim.Now;
                deletes.TryAdd(session, []);
                deletes[session].Add((at, sim.DeleteSession(session), null));
            }
            else if (roll < 90 && deletes.ContainsKey(session))
            {
                // A key used before the delete, for a new message.
                var old = mine[sim.Next(mine.Count)];
                fresh++;
                Record(session, old.TurnId, Text(), call: false);
            }
            else
            {
                var of = mine[sim.Next(mine.Count)];
                reads.Add((of, of.Status is 200 or 202, sim.Now, sim.GetTurn(session, of.TurnId)));
            }
        }

        void Record(string session, string id, string message, bool call)
        {
            var at = sim.Now;
            var response = call ? sim.Call(session, id, message) : sim.Send(session, id, message);
            sent.Add(new Sent(session, id, message, at, response));
            if (call)
            {
                calls.Add((session, id, at, response, response.ContinueWith(_ => sim.Now, TaskContinuationOptions.ExecuteSynchronously)));
            }
        }

        /// <summary>After every step.</summary>
        public void CheckAlways()
        {
            foreach (var session in SessionNames)
            {
                var id = Entity(session);
                var state = sim.State(id);
                int held = sim.Pending.Count(w => w is SignalWork { Delayed: true } s && s.Target == id);
                Check(held <= 2, $"delayed signals held for one session stay O(1): {held} for {session}");
                if (sim.LastDelivered is CallWork call && call.Target == id && sim.Answers.ContainsKey((call.Caller, call.Incarnation, call.Slot))
                    && sim.Pending.All(w => w.Id != call.Id))
                {
                    // The verdict the session gives a turn's report is what it has recorded for that incarnation.
                    var verdict = JsonSerializer.Deserialize<TurnVerdict>(sim.Answers[(call.Caller, call.Incarnation, call.Slot)]!, DurableSimulation.Serializer)!;
                    var run = JsonSerializer.Deserialize<TurnCompletion>(call.Input!, DurableSimulation.Serializer)!.Run!;
                    var seen = state is null ? null : SessionQueries.FindTurn(state, verdict.TurnId);
                    bool same = seen is not null && SessionQueries.RunOf(state!, seen.Sequence) == run;
                    Check(same ? verdict.Status == seen!.Status : verdict.Status is null || (state is not null && state.ArchivedThrough > 0),
                        $"the session's verdict on {call.Caller} ({verdict.Status}) is what it recorded ({(same ? seen!.Status : null)})");
                }

                if (state is null)
                {
                    continue;
                }

                var stored = Stored(session, state);
                Check(stored.Count == stored.Select(t => t.TurnId).Distinct().Count(), $"no turn of {session} is stored twice");
                foreach (var turn in stored)
                {
                    var sends = sent.Where(s => s.SessionId == session && s.TurnId == turn.TurnId && Fingerprint.Of(s.Message) == turn.MessageHash).ToList();
                    Check(sends.Count > 0, $"turn {turn.TurnId} of {session} holds a message a client sent with that key");
                    Check(turn.AcceptedAt > (state.DeletedAt ?? DateTimeOffset.MinValue), $"turn {turn.TurnId} accepted before a delete is gone");
                    if (turn.Status == TurnStatus.Completed)
                    {
                        Check(turn.Answer == sim.Model.Answer(turn.Message), $"the answer of {turn.TurnId} answers its own message");
                    }
                }

                if (state.Active is { } active)
                {
                    bool expiryOnItsWay = sim.Pending.Any(w => w is SignalWork { Operation: nameof(ChatSession.Expire) } s && s.Target == id
                        && JsonSerializer.Deserialize<TurnExpiry>(s.Input!, DurableSimulation.Serializer)!.At == state.ExpiryCheckAt);
                    Check(state.ExpiryCheckAt is not null && expiryOnItsWay, $"running turn {active.Turn.TurnId} of {session} has its expiry signal on its way");
                }

                if (sim.LastDelivered is SignalWork { Operation: nameof(ChatSession.RetentionCheck) } check && check.Target == id && state.IsTombstone && state.DeletedAt == sim.Now)
                {
                    Check(sim.Session.IdleRetention > TimeSpan.Zero, "with retention off nothing is deleted unasked");
                }
            }
        }

        /// <summary>Every turn the session holds, with the words the state leaves to the store read back from it.</summary>
        List<TranscriptTurn> Stored(string session, ChatSessionState state)
        {
            string key = HttpHarness.Key(session);
            var archived = sim.Archive.Sessions.GetValueOrDefault(key)?.Values.Where(t => t.Sequence <= state.ArchivedThrough) ?? [];
            return archived.Concat(state.Turns)
                .Concat(state.Pending.Select(p => new TranscriptTurn(p.TurnId, p.Sequence, TurnStatus.Queued, p.Message, p.MessageHash, p.AcceptedAt, default) { MessageRef = p.MessageRef }))
                .Concat(state.Active is { } a ? [new TranscriptTurn(a.Turn.TurnId, a.Turn.Sequence, TurnStatus.Running, a.Turn.Message, a.Turn.MessageHash, a.Turn.AcceptedAt, default) { MessageRef = a.Turn.MessageRef }] : [])
                .Select(t => t with { Message = Whole(key, t.Message, t.MessageRef), Answer = t.Answer is null ? null : Whole(key, t.Answer, t.AnswerRef) })
                .ToList();
        }

        string Whole(string key, string inline, string? textRef)
        {
            if (!StoredText.IsLeft(inline, textRef))
            {
                return inline;
            }

            Check(sim.Archive.Texts.TryGetValue((key, textRef!), out var text), $"the words the state leaves to the store under {textRef} are there");
            return text!;
        }

        /// <summary>A turn orchestration reports what the session recorded, never its own opinion.</summary>
        public void CheckVerdict(Instance instance)
        {
            if (instance.Name != nameof(ChatTurn) || instance.Status != InstanceStatus.Completed)
            {
                return;
            }

            var result = JsonSerializer.Deserialize<TurnResult>(instance.Output!, DurableSimulation.Serializer)!;
            var answer = sim.Answers.Where(a => a.Key.Caller == instance.Id && a.Key.Incarnation == instance.Incarnation).MaxBy(a => a.Key.Slot).Value;
            var verdict = JsonSerializer.Deserialize<TurnVerdict>(answer!, DurableSimulation.Serializer)!;
            Check(verdict.Status == result.Status && verdict.ErrorCode == result.ErrorCode, $"{instance.Id} reports {result.Status?.ToString() ?? "gone"} as the session said {verdict.Status?.ToString() ?? "gone"}");
        }

        /// <summary>At quiescence, faults off: everything accepted finished, nothing wedged, nothing resurrected.</summary>
        public void CheckSettled()
        {
            foreach (var pending in sent.Where(s => !s.Response.IsCompleted))
            {
                Check(false, $"the request for {pending.TurnId} of {pending.SessionId} was answered");
            }

            foreach (var read in reads)
            {
                Check(read.Response.IsCompleted && Sent.StatusOf(read.Response.Result) < 500, $"the read of {read.Of.TurnId} was answered, and not with a server error");
            }

            // Client signals here arrive within seconds, well inside the accept bound: every send gets a definite answer.
            foreach (var unconfirmed in sent.Where(s => s.Status == 503))
            {
                Check(false, $"the send of {unconfirmed.TurnId} to {unconfirmed.SessionId} at {unconfirmed.At:HH:mm:ss.fff} was settled within the accept bound");
            }
            // A call answers within 100 ms of the session committing its turn's answer, not at its next back-off read.
            foreach (var call in calls)
            {
                if (call.Response.IsCompletedSuccessfully && Sent.StatusOf(call.Response.Result) == 200 && sim.TurnFinishedAt.TryGetValue((HttpHarness.Key(call.Session), call.TurnId, call.At), out var finishedAt) && call.AnsweredAt.Result > finishedAt)
                {
                    var late = call.AnsweredAt.Result - finishedAt;
                    sim.CallLatencies.Add(late);
                    Check(late <= TimeSpan.FromMilliseconds(100), $"the call of {call.TurnId} to {call.Session} answered {late.TotalMilliseconds:0} ms after its turn finished");
                }
            }

            foreach (var answer in sent.GroupBy(s => s.Status?.ToString() ?? "none"))
            {
                sim.Count($"answered {answer.Key}", answer.Count());
            }

            Check(sim.Pending.Count == 0, "nothing is left to deliver");
            Check(sim.LargestPayload.Bytes <= PayloadBudget.MaxBytes,
                $"every durable payload stays within {PayloadBudget.MaxBytes} serialized bytes (largest: {sim.LargestPayload.What}, {sim.LargestPayload.Bytes})");
            foreach (var session in SessionNames)
            {
                var state = sim.State(Entity(session));
                var myDeletes = deletes.GetValueOrDefault(session) ?? [];
                DateTimeOffset lastDeleteRequested = myDeletes.Count == 0 ? DateTimeOffset.MinValue : myDeletes.Max(d => d.Requested);
                if (sim.Session.IdleRetention > TimeSpan.Zero)
                {
                    Check(state is null, $"with retention on, idle {session} is deleted and its tombstone forgotten once time has passed");
                    continue;
                }

                // The task hub keeps no words of a deleted life, and does not grow per turn: what remains of a session's
                // turn and archive orchestrations is its working set's turns and its last archive batch.
                string key = HttpHarness.Key(session);
                foreach (var instance in sim.Instances.Values.Where(i => i.Id.StartsWith($"chatturn:{key}:", StringComparison.Ordinal)))
                {
                    string[] parts = instance.Id[$"chatturn:{key}:".Length..].Split(':');
                    bool kept = state is not null && !state.IsTombstone
                        && state.Turns.Any(t => t.TurnId == parts[0] && SessionQueries.RunOf(state, t.Sequence) == parts[1]);
                    Check(kept, $"turn orchestration {instance.Id} ({instance.Status}) is purged once its turn left the working set or the session was deleted");
                }

                foreach (var instance in sim.Instances.Values.Where(i => i.Id.StartsWith($"chatarchive:{key}:", StringComparison.Ordinal)))
                {
                    Check(state is not null && !state.IsTombstone && instance.Id == SessionIds.ArchiveInstanceId(key, state.LastArchiveBatchId ?? ""),
                        $"archive orchestration {instance.Id} is purged by the next batch or the delete");
                }

                // No copy of a deleted life's words is left in the store.
                var texts = sim.Archive.Texts.Keys.Where(k => k.Session == key).Select(k => k.Key).ToList();
                Check(state is not null || texts.Count == 0, $"{session} is gone, and so are its stored words ({string.Join(", ", texts)} left)");
                Check(state?.DeletedAt is not { } deletedAt || texts.All(t => string.CompareOrdinal(t, TextKeys.After(deletedAt)) > 0),
                    $"no stored words of {session} accepted before its deletion remain");

                var stored = state is null ? [] : Stored(session, state);
                Check(state is null || (state.Active is null && state.Pending.Count == 0), $"{session} is not wedged: nothing running or queued at quiescence");
                Check(stored.All(t => t.AcceptedAt > lastDeleteRequested), $"nothing accepted before the last delete of {session} came back");
                Check(stored.All(t => t.Status is TurnStatus.Completed or TurnStatus.Failed or TurnStatus.Cancelled), $"every turn of {session} finished");

                // A 202 or 200 names the message the session kept under that key: the loser of a race learns 422.
                foreach (var answered in sent.Where(s => s.SessionId == session && s.Status is 200 or 202 && AfterEveryDelete(s, myDeletes)))
                {
                    var kept = stored.Where(t => t.TurnId == answered.TurnId).ToList();
                    Check(kept.Count == 1 && kept[0].MessageHash == Fingerprint.Of(answered.Message),
                        $"turn {answered.TurnId} of {session}, answered {answered.Status}, is stored once with the message that was answered");
                }

                // A 429 says nothing was stored: no copy of that request is taken later (unless the client sent it again).
                foreach (var refused in sent.Where(s => s.SessionId == session && s.Status == 429
                    && !sent.Any(o => o != s && o.SessionId == session && o.TurnId == s.TurnId && o.Message == s.Message)))
                {
                    Check(!stored.Any(t => t.TurnId == refused.TurnId && t.MessageHash == Fingerprint.Of(refused.Message)),
                        $"turn {refused.TurnId} of {session}, answered 429, was never stored");
                }

                // A turn the API handed out is never 404, archived or not (these histories stay inside the archived-id
                // window): only a delete requested since takes it away.
                foreach (var read in reads.Where(r => r.Of.SessionId == session && r.WasAccepted))
                {
                    bool deletedSince = myDeletes.Any(d => d.Requested >= read.Of.At);
                    Check(Sent.StatusOf(read.Response.Result) != 404 || deletedSince,
                        $"the Location of accepted turn {read.Of.TurnId} of {session} answered 404 at {read.At:HH:mm:ss.fff}");
                }

                // A send answered 202 after every delete of its session had answered 204 must be there, exactly once.
                foreach (var accepted in sent.Where(s => s.SessionId == session && s.Status is 202 or 200 or 502 or 504 or 409))
                {
                    if (!AfterEveryDelete(accepted, myDeletes) || state is null)
                    {
                        continue;
                    }

                    var outcome = SessionQueries.FindOutcome(state, accepted.TurnId);
                    var kept = stored.Where(t => t.TurnId == accepted.TurnId).ToList();
                    Check(kept.Count == 1 || outcome?.Finished?.ErrorCode == ErrorCodes.QueueFull || state.ArchivedIds.Any(k => k.TurnId == accepted.TurnId),
                        $"accepted turn {accepted.TurnId} of {session} is stored exactly once (found {kept.Count})");
                }
            }
        }

        /// <summary>Sent once every delete of its session had happened: a 204 comes within the call timeout of the request.</summary>
        bool AfterEveryDelete(Sent sent, IEnumerable<(DateTimeOffset Requested, Task<Microsoft.AspNetCore.Mvc.IActionResult> Response, DateTimeOffset? Answered)> deletes) =>
            deletes.All(d => d.Response.IsCompleted && Sent.StatusOf(d.Response.Result) == 204 && sent.At > d.Requested + sim.Api.CallTimeout);

        static void Check(bool condition, string promise)
        {
            if (!condition)
            {
                throw new InvalidOperationException("Broken: " + promise);
            }
        }
    }
}
