using System.Net;
using System.Net.Http.Json;
using static FunctionsChat.Tests.Hosting.ChatRequests;

namespace FunctionsChat.Tests.Runtime;

/// <summary>Fair use per caller on the real Durable runtime: the caller's quota entity, read beside the session.</summary>
[Collection(DurableRuntimeCollection.Name)]
public class RuntimeQuotaTests(DurableRuntimeFixture runtime)
{
    [Fact]
    public async Task A_caller_past_their_messages_per_minute_across_sessions_is_429_and_their_usage_says_so()
    {
        await using var host = await runtime.StartAsync(("Llm:Provider", "Offline"), ("Quota:MessagesPerMinute", "2"));

        await Expect(HttpStatusCode.Accepted, await host.Http.SendAsync(Post("/Chat/rt-quota-a/message/send", "one", "k1")));
        await Expect(HttpStatusCode.Accepted, await host.Http.SendAsync(Post("/Chat/rt-quota-b/message/send", "two", "k2")));
        // The quota entity counts each accepted message once its signal lands.
        var usage = await Until(
            async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/usage")),
            u => u.GetProperty("messagesPerMinute").GetProperty("used").GetInt64() == 2, TimeSpan.FromSeconds(30), "both messages counted");
        var refused = await host.Http.SendAsync(Post("/Chat/rt-quota-a/message/send", "three", "k3"));

        Assert.Equal(2, usage.GetProperty("messagesPerMinute").GetProperty("limit").GetInt64());
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("urn:functionschat:problem:message-rate-limited", (await refused.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("type").GetString());
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 65);
        await Expect(HttpStatusCode.NotFound, await host.Http.GetAsync("/Chat/rt-quota-a/turns/k3"));
        RuntimeReport.Line($"fair use: the third message in a minute of a caller allowed two was refused 429, Retry-After {refused.Headers.RetryAfter.Delta.Value.TotalSeconds:F0} s");
    }
    [Fact]
    public async Task A_caller_whose_model_tokens_used_up_the_period_is_429_until_it_passes()
    {
        runtime.Model.Respond = c => FunctionsChat.Tests.Llm.LoopbackModelServer.Ok(c, "an answer");
        await using var host = await runtime.StartAsync(("Quota:TokensPerPeriod", "100"), ("Quota:TokenPeriod", "01:00:00"));

        // Each answer costs 69 tokens (57 in, 12 out, as the loopback model reports them): two use up 100.
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-tokens/message", "one", "k1")));
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-tokens-2/message", "two", "k2")));
        var usage = await Until(
            async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/usage")),
            u => u.GetProperty("tokens").GetProperty("used").GetInt64() >= 138, TimeSpan.FromSeconds(30), "both answers charged");
        var refused = await host.Http.SendAsync(Post("/Chat/rt-tokens/message", "three", "k3"));

        Assert.Equal(100, usage.GetProperty("tokens").GetProperty("limit").GetInt64());
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("urn:functionschat:problem:token-budget-exhausted", (await refused.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("type").GetString());
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalMinutes, 1, 65);
        RuntimeReport.Line($"fair use: after {usage.GetProperty("tokens").GetProperty("used").GetInt64()} tokens of a budget of 100 an hour, the next message was refused 429, Retry-After {refused.Headers.RetryAfter.Delta.Value.TotalMinutes:F0} min");
    }

    [Fact]
    public async Task A_turn_past_the_callers_running_turns_waits_queued_and_starts_when_the_callers_other_turn_finishes()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ModelProbe();
        runtime.Model.Respond = probe.Around(async c =>
        {
            // The first model call holds on until the test lets it finish; the later ones answer at once.
            if (probe.Calls.IsEmpty && !release.Task.IsCompleted)
            {
                await release.Task.WaitAsync(TimeSpan.FromSeconds(60));
            }

            await FunctionsChat.Tests.Llm.LoopbackModelServer.Ok(c, "an answer");
        });
        await using var host = await runtime.StartAsync(("Quota:RunningTurns", "1"), ("Quota:TokensPerPeriod", "100000"));

        await Expect(HttpStatusCode.Accepted, await host.Http.SendAsync(Post("/Chat/rt-slots-a/message/send", "one", "k1")));
        await Until(
            async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/rt-slots-a/turns/k1")),
            t => t.GetProperty("status").GetString() == "running", TimeSpan.FromSeconds(30), "the first turn running");
        await Expect(HttpStatusCode.Accepted, await host.Http.SendAsync(Post("/Chat/rt-slots-b/message/send", "two", "k2")));
        var usage = await Until(
            async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/usage")),
            u => u.GetProperty("runningTurns").GetProperty("waiting").GetInt32() == 1 && u.GetProperty("tokens").GetProperty("used").GetInt64() > 0,
            TimeSpan.FromSeconds(30), "the second session waiting for a slot, and the running turn's tokens estimated");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var waiting = await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/rt-slots-b/turns/k2"));

        // The running turn counts against the token budget by the tokenizer's estimate of its prompt until the model reports.
        long estimated = usage.GetProperty("tokens").GetProperty("used").GetInt64();
        Assert.InRange(estimated, 5, 200);
        Assert.Equal("queued", waiting.GetProperty("status").GetString());
        Assert.Equal((1, 1), (usage.GetProperty("runningTurns").GetProperty("used").GetInt32(), usage.GetProperty("runningTurns").GetProperty("limit").GetInt32()));
        Assert.Equal(1, probe.MostAtOnce);

        release.SetResult();
        var second = await Until(
            async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/rt-slots-b/turns/k2")),
            t => t.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(30), "the second turn completed");
        var idle = await Until(
            async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/usage")),
            u => u.GetProperty("runningTurns").GetProperty("used").GetInt32() == 0, TimeSpan.FromSeconds(30), "every slot let go");

        Assert.Equal("an answer", second.GetProperty("answer").GetString());
        Assert.Equal(2, probe.Calls.Count);
        Assert.Equal(1, probe.MostAtOnce);
        Assert.Equal(0, idle.GetProperty("runningTurns").GetProperty("waiting").GetInt32());
        // Each answer is charged what the model reported (57 in, 12 out): the estimates are corrected away.
        var charged = await Until(
            async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/usage")),
            u => u.GetProperty("tokens").GetProperty("used").GetInt64() == 138, TimeSpan.FromSeconds(30), "both answers charged as reported");
        var calls = probe.InOrder;
        RuntimeReport.Line($"fair use: with one running turn allowed, the second session's turn waited queued and its model call began {(calls[1].BeganAt - calls[0].EndedAt) * 1000.0 / System.Diagnostics.Stopwatch.Frequency:F0} ms after the first ended; the running turn was charged an estimate of {estimated} tokens, corrected to {charged.GetProperty("tokens").GetProperty("used").GetInt64()} for both answers");
    }
}
