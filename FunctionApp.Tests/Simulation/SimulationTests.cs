using System.Diagnostics;
using System.Text.Json;
using FunctionsChat.Domain;
using FunctionsChat.Http;
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
        var stops = new List<double>();
        int largest = 0;
        for (int seed = first; seed < first + seeds; seed++)
        {
            var sim = History(seed);
            largest = Math.Max(largest, sim.LargestPayload.Bytes);
            latencies.AddRange(sim.CallLatencies.Select(l => l.TotalMilliseconds));
            stops.AddRange(sim.StopLatencies.Select(l => l.TotalMilliseconds));
            foreach (var (what, count) in sim.Counts)
            {
                totals[what] = totals.GetValueOrDefault(what) + count;
            }
        }

        string summary = $"simulation: {seeds} seeded histories (seeds {first}..{first + seeds - 1}) in {watch.Elapsed.TotalSeconds:0.0} s; "
            + string.Join(", ", totals.OrderBy(t => t.Key).Select(t => $"{t.Key} {t.Value}")) + $"; largest durable payload {largest} bytes"
            + $"; call answered after its turn finished (simulated time, {latencies.Count} calls): {Percentiles(latencies)}"
            + $"; model call ended after the session stopped its turn ({stops.Count} calls): {Percentiles(stops)}";
        output.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("FUNCTIONSCHAT_SIM_SUMMARY") is { Length: > 0 } path)
        {
            File.AppendAllText(path, summary + Environment.NewLine);
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
        // The model takes its time, so a message, a cancel or a delete lands while it speaks.
        sim.Model.FirstPieceLatency = TimeSpan.FromSeconds(2);
        sim.Model.PieceLatency = TimeSpan.FromMilliseconds(worst ? 5 : 120);
        sim.Model.PieceChars = worst ? 50 : 4;
        var world = new World(sim, worst);
        try
        {
            sim.AfterStep = world.CheckAlways;
            sim.Model.OnBegin = world.ModelCallBegan;
            sim.Model.OnEnd = world.ModelCallEnded;
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

            // Liveness: the faults stop; a second delivery of an orchestration's signal is not a fault but how an unsorted
            // queue delivers (host.json's reorder window is 0), so it goes on.
            sim.Faults = Faults.None with { DuplicateOrchestrationSignal = sim.Faults.DuplicateOrchestrationSignal };
            sim.RunUntil(() => false);
            world.CheckSettled();
            foreach (var session in SessionNames)
            {
                var history = sim.GetHistory(session);
                sim.RunUntil(() => history.IsCompleted);
                world.CheckHistory(session, history.Result);
            }

            sim.Count(worst ? "worst-case histories" : "histories");
            return sim;
        }
        catch (Exception e)
        {
            throw sim.Broke("a promise", e, $"FUNCTIONSCHAT_SIM_FIRST_SEED={seed} FUNCTIONSCHAT_SIM_SEEDS=1");
        }
    }

    /// <summary>What the clients did and what they were told, and the checks over it.</summary>
    sealed class World(DurableSimulation sim, bool worst)
    {
        readonly List<Sent> sent = [];
        readonly List<(string Session, string TurnId, DateTimeOffset At, Task<Microsoft.AspNetCore.Mvc.IActionResult> Response, Task<DateTimeOffset> AnsweredAt)> calls = [];
        readonly List<(Sent Of, bool WasAccepted, DateTimeOffset At, Task<Microsoft.AspNetCore.Mvc.IActionResult> Response)> reads = [];

        /// <summary>Forks asked for: from which session into which; a forked session holds turns sent to the other.</summary>
        readonly List<(string From, string Into)> forks = [];
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
            int inline = (PayloadBudget.InlineTextBytes - PayloadBudget.EmptyTextBytes) / (PayloadBudget.TextBytes(unit) - PayloadBudget.EmptyTextBytes);
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
                Record(session, id, Text(), roll % 5 == 0, Strategy());
                if (roll % 4 == 1)
                {
                    // Another client races the same key with another message.
                    fresh++;
                    Record(session, id, Text(), call: false);
                }
                else if (roll % 4 == 2)
                {
                    // Another client sends its own message at the same moment, with a strategy of its own.
                    Record(session, NewKey(), Text(), call: sim.Next(2) == 0, Strategy());
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
            else if (roll < 92)
            {
                // A branch: a regenerate (of the newest turn, or of any with "later"), an edit, a switch, or a fork; of
                // the turn sent last half the time.
                int kind = sim.Next(4);
                if (kind < 2)
                {
                    // A variant is of a finished turn: mostly, the client waits until the session is idle.
                    sim.RunUntil(() => sim.State(Entity(session)) is not { Active: not null }, limit: 400);
                }

                var of = sim.Next(2) == 0 ? mine[^1] : mine[sim.Next(mine.Count)];
                switch (kind)
                {
                    case 0:
                        // The message asked again is the one the session kept under that key (a raced key keeps one).
                        string key = NewKey();
                        string again = sim.State(Entity(session)) is { } now && Stored(session, now).FirstOrDefault(t => t.TurnId == of.TurnId) is { } kept ? kept.Message : of.Message;
                        sent.Add(new Sent(session, key, again, sim.Now, sim.Regenerate(session, of.TurnId, key, later: sim.Next(2) == 0)) { Variant = true });
                        break;
                    case 1:
                        string editKey = NewKey();
                        string edited = Text();
                        sent.Add(new Sent(session, editKey, edited, sim.Now, sim.Edit(session, of.TurnId, editKey, edited)) { Variant = true });
                        break;
                    case 2:
                        sim.SwitchBranch(session, of.TurnId);
                        sim.Count("branch switches asked");
                        break;
                    default:
                        string into = SessionNames[sim.Next(SessionNames.Length)];
                        forks.Add((session, into));
                        sim.Fork(session, of.TurnId, into);
                        sim.Count("forks asked");
                        break;
                }
            }
            else if (roll < 95 && deletes.ContainsKey(session))
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

        /// <summary>The app's default (enqueue) half the time; reject, interrupt or rollback the other half.</summary>
        string? Strategy() => sim.Next(6) switch { 3 => "reject", 4 => "interrupt", 5 => "rollback", _ => null };

        void Record(string session, string id, string message, bool call, string? strategy = null)
        {
            var at = sim.Now;
            var response = call ? sim.Call(session, id, message, strategy) : sim.Send(session, id, message, strategy);
            sent.Add(new Sent(session, id, message, at, response) { Strategy = strategy });
            if (call)
            {
                calls.Add((session, id, at, response, response.ContinueWith(_ => sim.Now, TaskContinuationOptions.ExecuteSynchronously)));
            }
        }

        /// <summary>Promises a model call broke: the model's own failure would be taken for the model's, so they are raised after the step.</summary>
        readonly List<string> broken = [];

        void Expect(bool condition, string promise)
        {
            if (!condition)
            {
                broken.Add(promise);
            }
        }

        /// <summary>Model calls still open, with the moment the session stopped letting their turn run (null: it still does).</summary>
        readonly Dictionary<ModelCall, DateTimeOffset?> open = [];

        /// <summary>Chunks each stopped turn's stream had when the session finished the turn: none is added after.</summary>
        readonly Dictionary<(string Session, string Stream), int> sealedStreams = [];

        /// <summary>The session and turn a message was sent for (every message text is unique to one send, or its repeats).</summary>
        /// <summary>The turn a model call answers, by its message: a regenerate asks again with the same message, so the one running.</summary>
        (string Session, string TurnId)? TurnOf(string message)
        {
            var asked = sent.Where(s => s.Message == message).ToList();
            return (asked.FirstOrDefault(s => Runs(s.SessionId, s.TurnId)) ?? asked.FirstOrDefault()) is { } of ? (of.SessionId, of.TurnId) : null;
        }

        /// <summary>
        /// A model call begins only while its turn runs, and the session's other calls have all been stopped: at most
        /// one call per session is in flight beyond the stop grace.
        /// </summary>
        public void ModelCallBegan(ModelCall call)
        {
            if (TurnOf(call.Message) is not { } turn)
            {
                return;
            }

            foreach (var (other, stoppedAt) in open.ToList())
            {
                if (TurnOf(other.Message) is { } running && running.Session == turn.Session && stoppedAt is null)
                {
                    // Only another execution of the same turn (one that replaced the first) may overlap: its claim
                    // supersedes the earlier call, which must end within a stop check from now.
                    Expect(running.TurnId == turn.TurnId, $"a model call for {turn.TurnId} of {turn.Session} begins while the call for {running.TurnId} still runs unstopped");
                    open[other] = sim.Now;
                    sim.Count("model calls superseded by a later execution");
                }
            }

            Expect(Runs(turn.Session, turn.TurnId), $"a model call for {turn.TurnId} of {turn.Session} begins only while the session runs that turn");
            open[call] = null;
            sim.Count("model calls");
        }

        bool Runs(string session, string turnId) => SessionQueries.Runs(sim.State(Entity(session)), turnId, run: null);

        /// <summary>A call whose turn was stopped is closed within the grace: one read of the session by the model activity.</summary>
        public void ModelCallEnded(ModelCall call)
        {
            if (open.Remove(call, out var stoppedAt) && stoppedAt is { } at)
            {
                var late = call.EndedAt!.Value - at;
                sim.StopLatencies.Add(late);
                // A read of the session that failed is no news: the stop is seen one check later.
                int missed = TurnOf(call.Message) is { } turn ? sim.FailedReads.Count(r => r.Entity == Entity(turn.Session) && r.At >= at && r.At <= call.EndedAt) : 0;
                Expect(late <= TurnWatch.StopCheck * (1 + missed), $"the model call for '{call.Message}' was closed {late.TotalMilliseconds:0} ms after the session stopped its turn ({missed} reads failed)");
                sim.Count(call.Closed ? "model calls closed by a stop" : "model calls that ended within the grace of a stop");
            }
        }

        /// <summary>After every step.</summary>
        public void CheckAlways()
        {
            Check(broken.Count == 0, string.Join("; ", broken));
            foreach (var call in open.Keys.ToList())
            {
                if (open[call] is null && TurnOf(call.Message) is { } turn && !Runs(turn.Session, turn.TurnId))
                {
                    open[call] = sim.Now;
                }
            }

            foreach (var session in SessionNames)
            {
                var id = Entity(session);
                var state = sim.State(id);
                // Each operation whose messages went out unsaved may leave one more of its kind on its way.
                int held = sim.Pending.Count(w => w is SignalWork { Delayed: true, Unsaved: false } s && s.Target == id);
                Check(held <= 3, $"delayed signals held for one session stay O(1) (expiry, stop check, retention): {held} for {session}");
                if (sim.LastDelivered is CallWork { Operation: nameof(ChatSession.Complete) } call && call.Target == id && sim.Answers.ContainsKey((call.Caller, call.Incarnation, call.Slot))
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
                    var sends = sent.Where(s => (s.SessionId == session || forks.Contains((s.SessionId, session))) && s.TurnId == turn.TurnId && Fingerprint.Of(s.Message) == turn.MessageHash).ToList();
                    Check(sends.Count > 0, $"turn {turn.TurnId} of {session} holds a message a client sent with that key");
                    Check(turn.AcceptedAt > (state.DeletedAt ?? DateTimeOffset.MinValue), $"turn {turn.TurnId} accepted before a delete is gone");
                    if (turn.Status == TurnStatus.Completed)
                    {
                        Check(turn.Answer == sim.Model.Answer(turn.Message), $"the answer of {turn.TurnId} answers its own message");
                    }
                    else if (turn.Answer is { } partial)
                    {
                        Check(turn.Status is TurnStatus.Cancelled or TurnStatus.Interrupted or TurnStatus.RolledBack && sim.Model.Answer(turn.Message).StartsWith(partial, StringComparison.Ordinal),
                            $"the partial answer of stopped turn {turn.TurnId} ({turn.Status}) is the start of the answer to its own message");
                    }
                }

                // A stopped turn's stream, as readers see it (its accepted attempt), is final once the session has
                // finished the turn: no chunk is appended after. Another attempt of the model activity (one whose
                // result was lost, run again) may still close its own chunks; readers pass over them.
                string key = HttpHarness.Key(session);
                foreach (var stopped in state.Turns.Where(t => t.Status is TurnStatus.Cancelled or TurnStatus.Interrupted or TurnStatus.RolledBack))
                {
                    string stream = StreamKeys.Of(stopped.AcceptedAt, stopped.TurnId) + stopped.Attempt;
                    int chunks = sim.Archive.StreamRows.Keys.Count(k => k.Session == key && k.Row.StartsWith(stream, StringComparison.Ordinal));
                    Check(sealedStreams.TryAdd((key, stream), chunks) || sealedStreams[(key, stream)] >= chunks,
                        $"no chunk is appended to stopped turn {stopped.TurnId}'s stream after the session finished it");
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
                .Select(t => t with { Message = Whole(key, t.Message, t.MessageRef, t), Answer = t.Answer is null ? null : Whole(key, t.Answer, t.AnswerRef, t) })
                .ToList();
        }

        string Whole(string key, string inline, string? textRef, TranscriptTurn turn)
        {
            if (!StoredText.IsLeft(inline, textRef))
            {
                return inline;
            }

            Check(sim.Archive.Texts.TryGetValue((key, textRef!), out var text),
                $"the words turn {turn.TurnId} ({turn.Status}, accepted {turn.AcceptedAt:HH:mm:ss.fff}) of {key} leaves to the store under {textRef} are there");
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
        /// <summary>
        /// Every window converges on the session: once it has settled, the history a window reads is the branch the
        /// session follows, from its first turn to its head, as the state and the archive hold it.
        /// </summary>
        public void CheckHistory(string session, Microsoft.AspNetCore.Mvc.IActionResult read)
        {
            var state = sim.State(Entity(session));
            if (state is null or { IsEmpty: true })
            {
                Check(Sent.StatusOf(read) == 404, $"the history of {session}, which holds nothing, is 404");
                return;
            }

            var bySequence = Stored(session, state).Where(t => t.Status is not (TurnStatus.Queued or TurnStatus.Running)).ToDictionary(t => t.Sequence);
            var line = new List<string>();
            for (long at = Branches.HeadOf(state); at > 0 && line.Count < 100;)
            {
                if (bySequence.TryGetValue(at, out var turn))
                {
                    line.Add(turn.TurnId);
                    at = Branches.ParentOf(turn.Sequence, turn.Parent);
                }
                else
                {
                    at = state.Pending.Append(state.Active?.Turn).FirstOrDefault(q => q?.Sequence == at) is { } queued ? Branches.ParentOf(queued.Sequence, queued.Parent) : 0;
                }
            }

            line.Reverse();
            var shown = ((HistoryView)((Microsoft.AspNetCore.Mvc.OkObjectResult)read).Value!).Messages.Where(m => m.Role == "user").Select(m => m.TurnId).ToList();
            Check(shown.SequenceEqual(line), $"the history of {session} is the branch it follows ({string.Join(",", shown)} against {string.Join(",", line)})");
            sim.Count("histories read back as the branch followed");
        }

        public void CheckSettled()
        {
            foreach (var pending in sent.Where(s => !s.Response.IsCompleted))
            {
                Check(false, $"the request for {pending.TurnId} of {pending.SessionId} was answered");
            }

            foreach (var read in reads)
            {
                // A read that could not reach the session says so (503, repeat after Retry-After); no other server error.
                Check(read.Response.IsCompleted && Sent.StatusOf(read.Response.Result) is < 500 or 503, $"the read of {read.Of.TurnId} was answered, and not with a server error");
            }

            // Client signals here arrive within seconds, well inside the accept bound: every send gets a definite answer,
            // unless its operation ran with its state unsaved (taken only once it runs again, minutes later).
            // (A regenerate or an edit that could not read the session first answers 503 session-unavailable: nothing was sent.)
            foreach (var unconfirmed in sent.Where(s => s.Status == 503 && ProblemType(s) != "urn:functionschat:problem:session-unavailable"
                && !sim.UnsavedRequests.Contains((HttpHarness.Key(s.SessionId), s.TurnId))))
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

            Check(broken.Count == 0, string.Join("; ", broken));
            Check(sim.Pending.Count == 0 && sim.ActivitiesRunning == 0 && open.Count == 0, "nothing is left to deliver, no activity and no model call is running");
            CheckContexts();
            Check(sim.LargestPayload.Bytes <= PayloadBudget.MaxBytes,
                $"every durable payload stays within {PayloadBudget.MaxBytes} serialized bytes (largest: {sim.LargestPayload.What}, {sim.LargestPayload.Bytes})");
            foreach (var session in SessionNames)
            {
                var state = sim.State(Entity(session));
                var myDeletes = deletes.GetValueOrDefault(session) ?? [];
                DateTimeOffset lastDeleteRequested = myDeletes.Count == 0 ? DateTimeOffset.MinValue : myDeletes.Max(d => d.Requested);
                string key = HttpHarness.Key(session);
                foreach (var instance in sim.Instances.Values.Where(i => !i.Id.StartsWith(SessionIds.TurnPrefix(key), StringComparison.Ordinal)
                    && !i.Id.StartsWith(SessionIds.ArchivePrefix(key), StringComparison.Ordinal)))
                {
                    // A deletion's orchestration names the session (and turn ids): it is purged once finished, and its
                    // sweep holds nothing but its instance id.
                    Check(instance.Input?.Contains(key, StringComparison.Ordinal) != true, $"{instance.Name} {instance.Id} ({instance.Status}), which names {session}, is purged");
                }

                if (sim.Session.IdleRetention > TimeSpan.Zero)
                {
                    Check(state is null, $"with retention on, idle {session} is deleted and its tombstone forgotten once time has passed");
                    continue;
                }

                // The task hub keeps no words of a deleted life, and does not grow per turn: what remains of a session's
                // turn and archive orchestrations is its working set's turns and its last archive batch.
                foreach (var instance in sim.Instances.Values.Where(i => i.Id.StartsWith($"chatturn:{key}:", StringComparison.Ordinal)))
                {
                    string[] parts = instance.Id[$"chatturn:{key}:".Length..].Split(':');
                    // A run the session never learned of (its start went out unsaved) goes with the first archive batch
                    // that reaches its sequence, or with the session.
                    bool orphan = sim.Counted("entity operations whose messages went out unsaved") > 0
                        && SessionIds.RunOrder(parts[^1]).Sequence > state?.ArchivedThrough;
                    bool kept = state is not null && !state.IsTombstone
                        && (state.Turns.Any(t => t.TurnId == parts[0] && SessionQueries.RunOf(state, t.Sequence) == parts[1]) || orphan);
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
                Check(stored.All(t => t.Status is not (TurnStatus.Queued or TurnStatus.Running)), $"every turn of {session} finished");
                CheckStrategies(session, state, stored);

                // A 202 or 200 names the message the session kept under that key: the loser of a race learns 422. A send
                // is answered 202 once stored, before the session has judged it: a state that filled in between refuses
                // it, and its turn says so.
                foreach (var answered in sent.Where(s => s.SessionId == session && s.Status is 200 or 202 && AfterEveryDelete(s, myDeletes)))
                {
                    var kept = stored.Where(t => t.TurnId == answered.TurnId).ToList();
                    bool refusedLater = answered.Status == 202 && kept.Count == 0 && state is not null
                        && SessionQueries.FindOutcome(state, answered.TurnId)?.Finished?.ErrorCode is ErrorCodes.QueueFull or ErrorCodes.TurnInProgress;
                    Check(refusedLater || (kept.Count == 1 && kept[0].MessageHash == Fingerprint.Of(answered.Message)),
                        $"turn {answered.TurnId} of {session}, answered {answered.Status}, is stored once with the message that was answered");
                    if (refusedLater)
                    {
                        sim.Count("sends refused after their 202");
                    }
                }

                // The API's records of requests go with the life that accepted them.
                Check(state?.DeletedAt is not { } erasedThrough || !sim.Archive.Requests.Any(r => r.Key.Session == key && r.Value.AcceptedAt <= erasedThrough)
                    || state.Archiving is not null || sim.Instances.Values.Any(i => i.Id.StartsWith($"chatarchive:{key}:", StringComparison.Ordinal)),
                    $"no request record of {session} accepted before its deletion remains");

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
                // (A 409 for a busy session under reject stored nothing: CheckStrategies holds it to that.)
                foreach (var accepted in sent.Where(s => s.SessionId == session && (s.Status is 202 or 200 or 502 or 504
                    || (s.Status == 409 && ProblemType(s) == "urn:functionschat:problem:session-deleted"))))
                {
                    if (!AfterEveryDelete(accepted, myDeletes) || state is null)
                    {
                        continue;
                    }

                    var outcome = SessionQueries.FindOutcome(state, accepted.TurnId);
                    var kept = stored.Where(t => t.TurnId == accepted.TurnId).ToList();
                    Check(kept.Count == 1 || outcome?.Finished?.ErrorCode is ErrorCodes.QueueFull or ErrorCodes.TurnInProgress || state.ArchivedIds.Any(k => k.TurnId == accepted.TurnId),
                        $"accepted turn {accepted.TurnId} of {session} is stored exactly once (found {kept.Count})");
                }
            }
        }

        /// <summary>
        /// What each strategy promises, over the turns the session holds: a rejected message (409) is never stored; a
        /// message sent with interrupt or rollback cancelled every turn queued before it, and the turn running when it
        /// came finished stopped (interrupted, rolled back, or cancelled by an earlier stop), never completed or failed.
        /// </summary>
        void CheckStrategies(string session, ChatSessionState? state, List<TranscriptTurn> stored)
        {
            foreach (var rejected in sent.Where(s => s.SessionId == session && s.Status == 409 && ProblemType(s) == "urn:functionschat:problem:turn-in-progress"
                && !sent.Any(o => o != s && o.SessionId == session && o.TurnId == s.TurnId && o.Message == s.Message)))
            {
                Check(!stored.Any(t => t.TurnId == rejected.TurnId && t.MessageHash == Fingerprint.Of(rejected.Message)), $"turn {rejected.TurnId} of {session}, rejected 409, was never stored");
                sim.Count("messages rejected 409");
            }

            if (state is null)
            {
                return;
            }

            foreach (var taker in state.Turns.Where(t => t.QueuedEvent > 0))
            {
                var sends = sent.Where(s => s.SessionId == session && s.TurnId == taker.TurnId && Fingerprint.Of(s.Message) == taker.MessageHash).ToList();
                if (sends.Count != 1 || sends[0].Strategy is not ("interrupt" or "rollback"))
                {
                    continue;
                }

                sim.Count($"turns taken with {sends[0].Strategy}");
                foreach (var before in state.Turns.Where(t => t.Sequence < taker.Sequence && t.QueuedEvent > 0 && t.FinishedEvent > taker.QueuedEvent))
                {
                    Check(before.Status is TurnStatus.Interrupted or TurnStatus.RolledBack or TurnStatus.Cancelled,
                        $"turn {before.TurnId} of {session}, running when {taker.TurnId} came with {sends[0].Strategy}, finished stopped, not {before.Status}");
                    Check(before.StartedEvent > 0, $"turn {before.TurnId} of {session}, queued when {taker.TurnId} came with {sends[0].Strategy}, was cancelled then");
                    sim.Count($"turns stopped by {sends[0].Strategy}");
                }
            }
        }

        /// <summary>
        /// What the model was shown: before each call's own message, only turns that completed or were interrupted
        /// after the model had begun (each followed by its answer, partial or whole) — never a failed, cancelled or
        /// rolled-back one.
        /// </summary>
        void CheckContexts()
        {
            var finished = new Dictionary<string, TranscriptTurn>();
            var lines = new List<(TranscriptTurn Turn, List<(string, string)> Shown)>();
            foreach (var session in SessionNames)
            {
                if (sim.State(Entity(session)) is { } state)
                {
                    var stored = Stored(session, state);
                    var bySequence = stored.GroupBy(t => t.Sequence).ToDictionary(g => g.Key, g => g.Last());
                    foreach (var turn in stored)
                    {
                        finished.TryAdd(turn.Message, turn);
                        // The turns the model may be shown before this one: its ancestors that are in the conversation.
                        var shown = new List<(string, string)>();
                        for (long p = Branches.ParentOf(turn.Sequence, turn.Parent); p > 0 && bySequence.TryGetValue(p, out var parent); p = Branches.ParentOf(parent.Sequence, parent.Parent))
                        {
                            if (SessionQueries.InConversation(parent) && parent.Answer is { } answer)
                            {
                                shown.Add((parent.Message, answer));
                            }
                        }

                        shown.Reverse();
                        lines.Add((turn, shown));
                    }
                }
            }

            // Every prompt is one branch: the turns it shows, in order, are the newest shown ancestors of a turn whose
            // message it answers (in a session that never branched, the turns before it).
            foreach (var call in sim.Model.Streamed)
            {
                var shownPairs = new List<(string, string)>();
                for (int i = 0; i + 1 < call.Prompt.Count - 1; i++)
                {
                    if (call.Prompt[i].Role == "user" && call.Prompt[i + 1].Role == "assistant")
                    {
                        shownPairs.Add((call.Prompt[i].Text, call.Prompt[i + 1].Text));
                    }
                }

                var candidates = lines.Where(l => l.Turn.Message == call.Message).ToList();
                if (candidates.Count == 0 || shownPairs.Any(p => !lines.Any(l => l.Turn.Message == p.Item1)))
                {
                    continue;
                }

                Check(candidates.Any(c => c.Shown.Count >= shownPairs.Count && c.Shown.TakeLast(shownPairs.Count).SequenceEqual(shownPairs)),
                    $"the prompt answering '{Short(call.Message)}' shows one branch's turns in order ({shownPairs.Count} shown)");
                sim.Count(shownPairs.Count > 0 ? "prompts checked as one branch" : "prompts with no earlier turn");
            }

            sim.Count("turns on a branch of their own", lines.Count(l => l.Turn.Branch != 0));
            sim.Count("regenerates and edits answered 202", sent.Count(s => s.Variant && s.Status == 202));

            foreach (var call in sim.Model.Streamed)
            {
                var prompt = call.Prompt;
                for (int i = 0; i < prompt.Count - 1; i++)
                {
                    if (prompt[i].Role != "user" || !finished.TryGetValue(prompt[i].Text, out var shown))
                    {
                        continue;
                    }

                    Check(SessionQueries.InConversation(shown), $"the model was shown {shown.TurnId}, which ended {shown.Status}");
                    Check(prompt[i + 1].Role == "assistant" && prompt[i + 1].Text == shown.Answer, $"the model was shown {shown.TurnId} with its answer as it stands");
                    if (shown.Status == TurnStatus.Interrupted)
                    {
                        sim.Count("interrupted turns shown to the model with their partial answer");
                    }
                }
            }
        }

        static string Short(string text) => text.Length > 40 ? text[..40] + "…" : text;

        static string? ProblemType(Sent s) =>
            s.Response.IsCompletedSuccessfully && s.Response.Result is Microsoft.AspNetCore.Mvc.ObjectResult { Value: Microsoft.AspNetCore.Mvc.ProblemDetails p } ? p.Type : null;

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
