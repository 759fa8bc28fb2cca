using System.Diagnostics;
using System.Text.Json;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using FunctionsChat.Quota;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Auth;
using FunctionsChat.Tests.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Entities;
using Xunit.Abstractions;

namespace FunctionsChat.Tests.Simulation;

/// <summary>
/// Seeded histories of several callers, each sending to several sessions at once, under every fair-use limit and the
/// runtime's documented faults. After every step no caller runs more turns than allowed beyond the stated tolerance;
/// once faults stop, every accepted message has finished once, every refused one left nothing behind, and no slot is
/// left held. FUNCTIONSCHAT_FAIRUSE_SEEDS and FUNCTIONSCHAT_FAIRUSE_FIRST_SEED replay or soak.
/// </summary>
public class FairUseSimulationTests(ITestOutputHelper output)
{
    static readonly string[] CallerNames = ["alice", "bob", "carol"];
    static readonly string[] SessionNames = ["s1", "s2", "s3", "s4"];

    static readonly QuotaOptions Limits = new() { MessagesPerMinute = 5, RunningTurns = 1, TokensPerPeriod = 24, TokenPeriod = TimeSpan.FromMinutes(10) };

    static readonly HashSet<string> QuotaProblems = [.. new[] { "message-rate-limited", "token-budget-exhausted", "running-turns-limited" }.Select(t => "urn:functionschat:problem:" + t)];

    [Fact]
    public void Fair_use_limits_hold_for_several_callers_with_many_sessions_and_refusals_lose_nothing()
    {
        int seeds = int.TryParse(Environment.GetEnvironmentVariable("FUNCTIONSCHAT_FAIRUSE_SEEDS"), out int n) ? n : 200;
        int first = int.TryParse(Environment.GetEnvironmentVariable("FUNCTIONSCHAT_FAIRUSE_FIRST_SEED"), out int f) ? f : 1;
        var watch = Stopwatch.StartNew();
        var totals = new Dictionary<string, int>();
        int mostRunning = 0, mostPerMinute = 0, mostOpenCalls = 0;
        long mostTokens = 0;
        for (int seed = first; seed < first + seeds; seed++)
        {
            var world = History(seed);
            mostRunning = Math.Max(mostRunning, world.MostRunning);
            mostPerMinute = Math.Max(mostPerMinute, world.MostAcceptedInAMinute());
            mostTokens = Math.Max(mostTokens, world.MostTokensInAPeriod());
            mostOpenCalls = Math.Max(mostOpenCalls, world.MostOpenModelCalls);
            foreach (var (what, count) in world.Sim.Counts.Concat(world.Counts))
            {
                totals[what] = totals.GetValueOrDefault(what) + count;
            }
        }

        string summary =
            $"fair use: {seeds} seeded histories (seeds {first}..{first + seeds - 1}) of {CallerNames.Length} callers with {SessionNames.Length} sessions each in {watch.Elapsed.TotalSeconds:0.0} s; "
            + $"limits: {Limits.MessagesPerMinute} messages a minute, {Limits.RunningTurns} running turn, {Limits.TokensPerPeriod} tokens in {Limits.TokenPeriod.TotalMinutes:0} min; "
            + $"most seen for one caller: {mostRunning} turns running, {mostPerMinute} messages accepted in a minute, {mostTokens} tokens used in a period, {mostOpenCalls} model calls open; "
            + string.Join(", ", totals.Where(t => !t.Key.StartsWith("entity ", StringComparison.Ordinal)).OrderBy(t => t.Key).Select(t => $"{t.Key} {t.Value}"));
        output.WriteLine(summary);
        if (Environment.GetEnvironmentVariable("FUNCTIONSCHAT_SIM_SUMMARY") is { Length: > 0 } path)
        {
            File.AppendAllText(path, summary + Environment.NewLine);
        }
    }

    static World History(int seed)
    {
        var sim = new DurableSimulation(seed, new SessionOptions
        {
            MaxPendingTurns = 3,
            TurnTimeout = TimeSpan.FromMinutes(2),
            ModelMaxAttempts = 3,
            ModelFirstRetryInterval = TimeSpan.FromSeconds(1),
            ModelMaxRetryInterval = TimeSpan.FromSeconds(5),
        }, quota: Limits, auth: new AuthOptions { Mode = AuthMode.EasyAuth });
        sim.Model.FirstPieceLatency = TimeSpan.FromSeconds(2);
        sim.Model.PieceLatency = TimeSpan.FromMilliseconds(120);
        sim.Model.PieceChars = 4;
        var world = new World(sim);
        try
        {
            sim.AfterStep = world.CheckRunning;
            sim.Model.OnBegin = world.ModelCallBegan;
            sim.Model.OnEnd = world.ModelCallEnded;
            int actions = 10 + sim.Next(25);
            for (int a = 0; a < actions; a++)
            {
                for (int s = sim.Next(8); s > 0; s--)
                {
                    sim.Step();
                }

                if (sim.Next(8) == 0)
                {
                    // Time passes: windows move on and turns finish.
                    var until = sim.Now + TimeSpan.FromSeconds(10 + sim.Next(50));
                    sim.RunUntil(() => sim.Now >= until);
                }

                world.Act();
            }

            sim.Faults = Faults.None with { DuplicateOrchestrationSignal = sim.Faults.DuplicateOrchestrationSignal };
            sim.RunUntil(() => false);
            world.CheckSettled();
            world.CheckLimits();
            sim.Count("histories");
            return world;
        }
        catch (Exception e)
        {
            throw sim.Broke("a fair-use promise", e, $"FUNCTIONSCHAT_FAIRUSE_FIRST_SEED={seed} FUNCTIONSCHAT_FAIRUSE_SEEDS=1");
        }
    }

    /// <summary>A request a caller made and what it was told.</summary>
    sealed record Asked(string Caller, string Session, string Key, string Message, DateTimeOffset At, Task<IActionResult> Response)
    {
        public int? Status => Response.IsCompletedSuccessfully ? Sent.StatusOf(Response.Result) : null;

        public bool RefusedByQuota => Response is { IsCompletedSuccessfully: true, Result: ObjectResult { Value: ProblemDetails { Type: { } type } } } && QuotaProblems.Contains(type);
    }

    sealed class World(DurableSimulation sim)
    {
        readonly List<Asked> asked = [];
        readonly List<(string Caller, string Session)> deletes = [];
        readonly Dictionary<string, int> openCalls = [];
        int fresh;

        public DurableSimulation Sim => sim;

        public Dictionary<string, int> Counts { get; } = [];

        public int MostRunning { get; private set; }

        public int MostOpenModelCalls { get; private set; }

        static string CallerId(string caller) => $"entra/tenant/{caller}";

        static string CallerKey(string caller) => SessionKeys.Owner(CallerId(caller));

        static EntityInstanceId Session(string caller, string session) => SessionEntityIds.For(SessionKeys.For(CallerId(caller), session));

        void Count(string what) => Counts[what] = Counts.GetValueOrDefault(what) + 1;

        Microsoft.AspNetCore.Http.HttpRequest As(string caller, Microsoft.AspNetCore.Http.HttpRequest request)
        {
            request.Headers[CallerResolver.PrincipalHeader] = PrincipalHeaders.Encode("aad", ("oid", caller), ("tid", "tenant"));
            return request;
        }

        public void Act()
        {
            string caller = CallerNames[sim.Next(CallerNames.Length)];
            string session = SessionNames[sim.Next(SessionNames.Length)];
            var mine = asked.Where(a => a.Caller == caller && a.Session == session).ToList();
            int roll = sim.Next(100);
            if (roll < 70 || mine.Count == 0)
            {
                Send(caller, session, $"k{fresh++}", $"{caller} says #{fresh}", call: roll % 5 == 0);
            }
            else if (roll < 82)
            {
                // A retry: after a refusal it is judged afresh; after an acceptance it is the same turn.
                var again = mine[sim.Next(mine.Count)];
                Send(caller, session, again.Key, again.Message, call: false);
            }
            else if (roll < 92)
            {
                var target = mine[sim.Next(mine.Count)];
                var request = As(caller, HttpHarness.Request("DELETE", $"/Chat/{session}/turns/{target.Key}", contentType: null));
                _ = sim.Request((_, client) => sim.Create<TurnFunctions>().CancelTurn(request, client, session, target.Key));
            }
            else if (roll < 96)
            {
                deletes.Add((caller, session));
                var request = As(caller, HttpHarness.Request("DELETE", $"/Chat/{session}", contentType: null));
                _ = sim.Request((_, client) => sim.Create<SessionFunctions>().DeleteSession(request, client, session));
            }
            else
            {
                var request = As(caller, HttpHarness.Request("GET", "/Chat/usage", contentType: null));
                var usage = sim.Request((_, client) => sim.Create<UsageFunctions>().GetUsage(request, client));
                sim.RunUntil(() => usage.IsCompleted);
                // 503 usage-unavailable when the quota's read fails, never a use of nothing.
                Assert.Contains(Sent.StatusOf(usage.Result), new int?[] { 200, 503 });
            }
        }

        void Send(string caller, string session, string key, string message, bool call)
        {
            var request = As(caller, HttpHarness.Request("POST", $"/Chat/{session}/{(call ? "message" : "message/send")}", JsonSerializer.Serialize(new { message }), idempotencyKey: key));
            var functions = sim.Create<MessageFunctions>();
            var response = sim.Request((_, client) => call ? functions.CallMessage(request, client, session) : functions.SendMessage(request, client, session));
            asked.Add(new Asked(caller, session, key, message, sim.Now, response));
        }

        /// <summary>
        /// After every step: the quota's saved state never counts more of the caller's sessions running than the limit,
        /// and every session running a turn (as its saved state says) is one the quota counts, but for slot messages a
        /// lost worker sent before saving its state (a quota's grant, a session's release): each can let one session
        /// run a turn the quota does not count, until that turn ends. That is the stated tolerance.
        /// </summary>
        public void CheckRunning()
        {
            foreach (var caller in CallerNames)
            {
                var counted = (sim.Usage(CallerQuota.For(CallerKey(caller)))?.Running ?? []).Select(h => h.Session).ToHashSet();
                var running = SessionNames.Where(s => sim.State(Session(caller, s)) is { Active: not null }).ToList();
                MostRunning = Math.Max(MostRunning, running.Count);
                int tolerance = sim.UnsavedSlotMessages.GetValueOrDefault(CallerKey(caller));
                var uncounted = running.Where(s => !counted.Contains(s)).ToList();
                Assert.True(counted.Count <= Limits.RunningTurns, $"{caller}'s quota counts {counted.Count} sessions running, past the limit of {Limits.RunningTurns}");
                Assert.True(uncounted.Count <= tolerance, $"{caller} runs turns in [{string.Join(",", uncounted)}] the quota does not count ({tolerance} unsaved slot messages)");
                if (running.Count > Limits.RunningTurns)
                {
                    Count("steps past the running-turns limit after an unsaved slot message");
                }
            }
        }

        public void ModelCallBegan(ModelCall call)
        {
            string caller = CallerOf(call);
            openCalls[caller] = openCalls.GetValueOrDefault(caller) + 1;
            MostOpenModelCalls = Math.Max(MostOpenModelCalls, openCalls[caller]);
        }

        public void ModelCallEnded(ModelCall call) => openCalls[CallerOf(call)]--;

        static string CallerOf(ModelCall call) => call.Prompt.Last(m => m.Role == "user").Text.Split(' ')[0];

        /// <summary>
        /// Every message the quota was told of was accepted only while the uses the quota had committed by then were
        /// under each limit: messages of the minute, and model tokens the model reported in the period (each counted
        /// from its call's estimate, which it replaced). The limits hold but for uses still on their way (the stated
        /// tolerance): the quota counts at least these, and more for copies and estimates.
        /// </summary>
        public void CheckLimits()
        {
            foreach (var (callerKey, at) in Uses(nameof(CallerQuota.Accepted)).Select(u => (u.Caller, u.At)))
            {
                if (sim.FailedReads.Any(r => r.Entity == CallerQuota.For(callerKey) && r.At == at))
                {
                    // The quota could not be read: that request was let through (the check fails open).
                    Count("messages accepted without a quota read");
                    continue;
                }

                int known = Uses(nameof(CallerQuota.Accepted)).Count(u => u.Caller == callerKey && u.At > at - CallerQuotaRules.MessageWindow && u.At < at && u.CommittedAt < at);
                long tokens = Reported().Where(u => u.Caller == callerKey && u.At > at - Limits.TokenPeriod && u.CommittedAt < at).Sum(u => u.Tokens);
                Assert.True(known < Limits.MessagesPerMinute, $"a message at {at:HH:mm:ss.fff} was accepted with {known} messages of the minute already counted");
                Assert.True(tokens < Limits.TokensPerPeriod, $"a message at {at:HH:mm:ss.fff} was accepted with {tokens} reported tokens of the period already counted");
            }
        }

        /// <summary>The operations each quota committed, once each: the caller, the use's moment, the charge (for tokens), and when.</summary>
        IEnumerable<(string Caller, DateTimeOffset At, TokenCharge? Charge, DateTimeOffset CommittedAt)> Uses(string operation) =>
            sim.QuotaCommitted.Where(q => q.Key.Operation == operation).Select(q => q.Key.Operation == nameof(CallerQuota.Used)
                ? JsonSerializer.Deserialize<TokenCharge>(q.Key.Input!, DurableSimulation.Serializer) is var charge ? (q.Key.Caller, charge!.At, (TokenCharge?)charge, q.Value) : default
                : (q.Key.Caller, JsonSerializer.Deserialize<DateTimeOffset>(q.Key.Input!, DurableSimulation.Serializer), null, q.Value));

        /// <summary>Reported usage committed, each at the moment of its call's estimate when the quota held that (its bucket).</summary>
        IEnumerable<(string Caller, DateTimeOffset At, long Tokens, DateTimeOffset CommittedAt)> Reported()
        {
            var used = Uses(nameof(CallerQuota.Used)).ToList();
            return used.Where(u => !u.Charge!.Estimate).Select(u => (u.Caller,
                used.FirstOrDefault(e => e.Charge!.Estimate && e.Charge.Call == u.Charge!.Call && u.Charge.Call is not null && e.CommittedAt < u.CommittedAt) is { Charge: { } estimate } ? estimate.At : u.At,
                u.Charge!.Tokens, u.CommittedAt));
        }

        public int MostAcceptedInAMinute()
        {
            var uses = Uses(nameof(CallerQuota.Accepted)).ToList();
            return uses.Select(u => uses.Count(o => o.Caller == u.Caller && o.At > u.At - CallerQuotaRules.MessageWindow && o.At <= u.At)).DefaultIfEmpty(0).Max();
        }

        public long MostTokensInAPeriod()
        {
            var uses = Reported().ToList();
            return uses.Select(u => uses.Where(o => o.Caller == u.Caller && o.At > u.At - Limits.TokenPeriod && o.At <= u.At).Sum(o => o.Tokens)).DefaultIfEmpty(0).Max();
        }

        /// <summary>
        /// Once faults stop and everything has run: each accepted message finished once (none waits for a slot that
        /// never comes), each message refused by a limit left nothing stored, and every caller's slots are free.
        /// </summary>
        public void CheckSettled()
        {
            foreach (var request in asked)
            {
                Assert.True(request.Response.IsCompleted, $"{request.Caller}/{request.Session}/{request.Key} was never answered");
            }

            var byKey = asked.GroupBy(a => (a.Caller, a.Session, a.Key));
            foreach (var tries in byKey)
            {
                var (caller, session, key) = tries.Key;
                bool accepted = tries.Any(t => t.Status is 200 or 202);
                // A delete takes every request its session took before it landed, even one accepted after it was
                // asked for: a deleted session's turns are not checked here (the seeded histories check deletes).
                bool deleted = deletes.Any(d => d.Caller == caller && d.Session == session);
                var turn = Turn(caller, session, key);
                if (tries.All(t => t.RefusedByQuota))
                {
                    Count("keys refused by a limit and never taken");
                    Assert.Null(turn);
                    Assert.Null(sim.Archive.ReadRequestAsync(SessionKeys.For(CallerId(caller), session), key, CancellationToken.None).Result);
                    continue;
                }

                if (accepted && !deleted)
                {
                    Assert.True(turn is not null, $"{caller}/{session}/{key} was accepted and is lost");
                    Assert.True(turn!.Status is not (TurnStatus.Queued or TurnStatus.Running), $"{caller}/{session}/{key} is still {turn.Status}: it waits for a slot that never came");
                    if (turn.Status == TurnStatus.Completed)
                    {
                        Assert.Equal(SimulatedModel.AnswerTo(tries.First().Message), turn.Answer);
                        Count("accepted messages answered");
                    }
                }
            }

            foreach (var caller in CallerNames)
            {
                var usage = sim.Usage(CallerQuota.For(CallerKey(caller)));
                Assert.True(usage?.Running is null && usage?.Waiting is null, $"{caller}'s quota still holds slots: running [{string.Join(",", usage?.Running?.Select(h => h.Session) ?? [])}] waiting [{string.Join(",", usage?.Waiting?.Select(h => h.Session) ?? [])}]");
                foreach (var session in SessionNames)
                {
                    Assert.Null(sim.State(Session(caller, session))?.Slot);
                    var history = Read(caller, session);
                    Assert.Equal(history.Count, history.Distinct().Count());
                }
            }
        }

        TurnStatusView? Turn(string caller, string session, string key)
        {
            var request = As(caller, HttpHarness.Request("GET", $"/Chat/{session}/turns/{key}", contentType: null));
            var response = sim.Request((_, client) => sim.Create<TurnFunctions>().GetTurn(request, client, session, key));
            sim.RunUntil(() => response.IsCompleted);
            return response.Result is OkObjectResult { Value: TurnStatusView view } ? view : null;
        }

        /// <summary>Each message the session's history shows: its role and turn (a turn answered twice shows two answers).</summary>
        List<string> Read(string caller, string session)
        {
            var request = As(caller, HttpHarness.Request("GET", $"/Chat/{session}/getHistory", contentType: null));
            request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?limit=100");
            var response = sim.Request((_, client) => sim.Create<HistoryFunctions>().GetHistory(request, client, session));
            sim.RunUntil(() => response.IsCompleted);
            return response.Result is OkObjectResult { Value: HistoryView view } ? [.. view.Messages.Select(m => $"{m.Role} {m.TurnId}")] : [];
        }
    }
}
