using System.Diagnostics;
using System.Net;
using FunctionsChat.Tests.Llm;
using static FunctionsChat.Tests.Hosting.ChatRequests;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// The cost of a turn on the real Durable runtime (DurableTask.Core and the Azure Storage backend over Azurite, no
/// Functions host, so a lower bound): per turn, the storage operations every client made (queue messages sent and
/// polls, table writes and reads, blob operations), the work items run (orchestrator episodes, activity runs, entity
/// batches), and the time from the request to the model and from the model to the answer. A model that answers in
/// 200 ms. Printed to the runtime report, never asserted: the machine is shared.
/// </summary>
[Collection(DurableRuntimeCollection.Name)]
public class TurnCostBenchmarks(DurableRuntimeFixture runtime)
{
    static readonly TimeSpan ModelTime = TimeSpan.FromMilliseconds(200);

    ModelProbe Model()
    {
        RuntimeCounters.Listen(runtime.Storage);
        var probe = new ModelProbe();
        runtime.Model.Respond = probe.Around(async c =>
        {
            await Task.Delay(ModelTime);
            await LoopbackModelServer.Ok(c, "ok");
        });
        return probe;
    }

    [Fact]
    public Task A_warm_call_costs_what_the_report_shows() => WarmCallsAsync("warm call");

    /// <summary>With the message rate and the token budget on: the quota is read beside the session, so no round trip is added.</summary>
    [Fact]
    public Task A_warm_call_under_the_message_and_token_limits_costs_what_the_report_shows() =>
        WarmCallsAsync("warm call under the message and token limits", ("Quota:MessagesPerMinute", "1000"), ("Quota:TokensPerPeriod", "100000000"));

    /// <summary>
    /// With every fair-use limit on: the quota is read beside the session (no round trip), and each call, on a session
    /// that holds no running-turn slot between calls, asks its caller's quota for one (two entity hops).
    /// </summary>
    [Fact]
    public Task A_warm_call_under_every_fair_use_limit_costs_what_the_report_shows() =>
        WarmCallsAsync("warm call under every fair-use limit", ("Quota:MessagesPerMinute", "1000"), ("Quota:TokensPerPeriod", "100000000"), ("Quota:RunningTurns", "4"));

    async Task WarmCallsAsync(string what, params (string Key, string? Value)[] settings)
    {
        var model = Model();
        await using var host = await runtime.StartAsync(settings);
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/cost-call/message", "warm up", "w")));

        var before = new List<double>();
        var after = new List<double>();
        var counted = RuntimeCounters.Take();
        for (int i = 1; i <= 20; i++)
        {
            long sent = Stopwatch.GetTimestamp();
            await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/cost-call/message", $"question {i}", $"t{i}")));
            long answered = Stopwatch.GetTimestamp();
            var call = model.InOrder[^1];
            before.Add(RuntimeReport.Milliseconds(sent, call.BeganAt));
            after.Add(RuntimeReport.Milliseconds(call.EndedAt, answered));
        }

        var cost = RuntimeCounters.Take().Since(counted);
        long traced = Stopwatch.GetTimestamp();
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/cost-call/message", "one more", "t21")));
        var last = model.InOrder[^1];
        RuntimeReport.Line($"cost, one {what}'s timeline (ms after the request): {RuntimeCounters.Timeline(traced)}; model +{RuntimeReport.Milliseconds(traced, last.BeganAt):F0} to +{RuntimeReport.Milliseconds(traced, last.EndedAt):F0}; answered +{RuntimeReport.Milliseconds(traced, Stopwatch.GetTimestamp()):F0}");
        Assert.Equal(22, model.Calls.Count);
        RuntimeReport.Line($"cost, {what} (median of 20): {RuntimeReport.Median(before):F0} ms from the request to the model, {RuntimeReport.Median(after):F0} ms from the model to the answer, {RuntimeReport.Median(before) + RuntimeReport.Median(after):F0} ms beyond the model; per turn {PerTurn(cost, 20)}");
    }

    [Fact]
    public async Task Eight_concurrent_calls_cost_what_the_report_shows()
    {
        var model = Model();
        await using var host = await runtime.StartAsync();
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/cost-eight/message", "warm up", "w")));

        var counted = RuntimeCounters.Take();
        long began = Stopwatch.GetTimestamp();
        var calls = Enumerable.Range(1, 8).Select(i => host.Http.SendAsync(Post("/Chat/cost-eight/message", $"question {i}", $"t{i}"))).ToArray();
        foreach (var call in calls)
        {
            await Expect(HttpStatusCode.OK, await call);
        }

        long done = Stopwatch.GetTimestamp();
        var cost = RuntimeCounters.Take().Since(counted);
        double modelMs = model.InOrder.Skip(1).Sum(c => RuntimeReport.Milliseconds(c.BeganAt, c.EndedAt));
        Assert.Equal(1, model.MostAtOnce);
        RuntimeReport.Line($"cost, eight concurrent calls on one session: {(RuntimeReport.Milliseconds(began, done) - modelMs) / 8:F0} ms a turn beyond the model; per turn {PerTurn(cost, 8)}");
    }

    [Fact]
    public async Task Eight_sends_and_a_history_read_while_a_turn_runs_cost_what_the_report_shows()
    {
        var model = Model();
        await using var host = await runtime.StartAsync();
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/cost-send/message", "warm up", "w")));

        var counted = RuntimeCounters.Take();
        var accepted = new List<double>();
        var sends = Enumerable.Range(1, 8).Select(async i =>
        {
            long sent = Stopwatch.GetTimestamp();
            var response = await host.Http.SendAsync(Post("/Chat/cost-send/message/send", $"question {i}", $"t{i}"));
            long answered = Stopwatch.GetTimestamp();
            await Expect(HttpStatusCode.Accepted, response);
            lock (accepted)
            {
                accepted.Add(RuntimeReport.Milliseconds(sent, answered));
            }
        }).ToArray();
        await Task.WhenAll(sends);

        // While the queued turns run, the history is read from the committed state.
        var reads = new List<double>();
        for (int i = 0; i < 20; i++)
        {
            long asked = Stopwatch.GetTimestamp();
            await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/cost-send/getHistory"));
            reads.Add(RuntimeReport.Milliseconds(asked, Stopwatch.GetTimestamp()));
        }

        await Until(async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/cost-send/turns/t8")), t => t.GetProperty("status").GetString() is not ("queued" or "running"), Patience, "the last turn finished");

        // One send alone, on an idle session: its timeline.
        long traced = Stopwatch.GetTimestamp();
        await Expect(HttpStatusCode.Accepted, await host.Http.SendAsync(Post("/Chat/cost-send/message/send", "one more", "t9")));
        RuntimeReport.Line($"cost, one send's timeline (ms after the request): {RuntimeCounters.Timeline(traced)}; answered 202 +{RuntimeReport.Milliseconds(traced, Stopwatch.GetTimestamp()):F0}");
        await Until(async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/cost-send/turns/t9")), t => t.GetProperty("status").GetString() is not ("queued" or "running"), Patience, "the ninth turn finished");
        var cost = RuntimeCounters.Take().Since(counted);

        // Twenty sends one after another, each answered before the next is sent.
        var single = new List<double>();
        for (int i = 10; i < 30; i++)
        {
            long sent = Stopwatch.GetTimestamp();
            await Expect(HttpStatusCode.Accepted, await host.Http.SendAsync(Post("/Chat/cost-send/message/send", $"question {i}", $"t{i}")));
            single.Add(RuntimeReport.Milliseconds(sent, Stopwatch.GetTimestamp()));
        }

        await Until(async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/cost-send/turns/t29")), t => t.GetProperty("status").GetString() is not ("queued" or "running"), Patience, "the last of twenty turns finished");
        RuntimeReport.Line($"cost, twenty sends one after another: answered 202 after {RuntimeReport.Median(single):F1} ms (median), {single.Max():F0} ms at most");
        RuntimeReport.Line($"cost, eight concurrent sends: answered 202 after {RuntimeReport.Median(accepted):F0} ms (median), {accepted.Max():F0} ms at most; history read while turns run {RuntimeReport.Median(reads):F1} ms (median of 20); per turn, sends with their turns and reads {PerTurn(cost, 9)}");
    }

    static string PerTurn(RuntimeCounters.Snapshot cost, int turns)
    {
        string Per(long count) => (count / (double)turns).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
        var operations = cost.Counts.Where(c => c.Value > 0 && c.Key.Contains(':', StringComparison.Ordinal)).OrderByDescending(c => c.Value).Select(c => $"{c.Key} {Per(c.Value)}");
        return $"{Per(cost.QueueMessagesSent)} queue messages sent, {Per(cost.QueuePolls)} queue polls, {Per(cost.TableWrites)} table writes, {Per(cost.TableReads)} table reads, {Per(cost.BlobOperations)} blob operations, "
            + $"{Per(cost[RuntimeCounters.OrchestratorEpisodes])} orchestrator episodes, {Per(cost[RuntimeCounters.ActivityRuns])} activity runs, {Per(cost[RuntimeCounters.EntityBatches])} entity batches"
            + $" (operations: {string.Join(", ", operations)})";
    }
}
