using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Llm;
using Microsoft.AspNetCore.Http;
using static FunctionsChat.Tests.Hosting.ChatRequests;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// Turns over HTTP on the real Durable runtime (DurableTask.Core with the Azure Storage backend over Azurite), each on a
/// task hub of its own, with a loopback model server.
/// </summary>
[Collection(DurableRuntimeCollection.Name)]
public class RuntimeScenarioTests(DurableRuntimeFixture runtime)
{
    static readonly TimeSpan Turn = TimeSpan.FromSeconds(30);

    ModelProbe Model(Func<HttpContext, Task> respond)
    {
        var probe = new ModelProbe();
        runtime.Model.Respond = probe.Around(respond);
        return probe;
    }

    static Task<JsonElement> Status(DurableRuntimeHost host, string session, string turn) =>
        host.Http.GetAsync($"/Chat/{session}/turns/{turn}").ContinueWith(r => Expect(HttpStatusCode.OK, r.Result)).Unwrap();

    static Task<JsonElement> Finished(DurableRuntimeHost host, string session, string turn) =>
        Until(() => Status(host, session, turn), s => s.GetProperty("status").GetString() is not ("queued" or "running"), Turn, $"turn {turn} finishing");

    [Fact]
    public async Task A_call_answers_with_the_models_reply_and_the_history_holds_both()
    {
        var model = Model(c => LoopbackModelServer.Ok(c, "Durable poems never end."));
        await using var host = await runtime.StartAsync();

        var answer = await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-call/message", "make a poem", "t1")));
        long answered = Stopwatch.GetTimestamp();

        Assert.Equal("Durable poems never end.", answer.GetProperty("answer").GetString());
        Assert.Equal("t1", answer.GetProperty("turnId").GetString());
        var history = await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/rt-call/getHistory"));
        Assert.Equal(["make a poem", "Durable poems never end."], history.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        RuntimeReport.Line($"call: model's last byte to the call's answer {RuntimeReport.Milliseconds(model.Calls.Single().EndedAt, answered):F0} ms");
    }

    [Fact]
    public async Task Eight_concurrent_sends_each_attached_at_once_are_answered_one_model_call_at_a_time_each_seeing_the_turns_before_it()
    {
        var model = Model(async c =>
        {
            await Task.Delay(200);
            await LoopbackModelServer.Ok(c, "ok");
        });
        await using var host = await runtime.StartAsync();
        string[] messages = Enumerable.Range(1, 8).Select(i => $"message {i}").ToArray();

        long began = Stopwatch.GetTimestamp();
        var sends = await Task.WhenAll(messages.Select(async (m, i) =>
        {
            var sent = await host.Http.SendAsync(Post("/Chat/rt-eight/message/send", m, $"k{i + 1}"));
            // The 202's Location, read the moment it is given: the session may not have taken the message yet.
            var attached = await host.Http.GetAsync(sent.Headers.Location);
            return (sent, attached, Status: (await Expect(HttpStatusCode.OK, attached)).GetProperty("status").GetString());
        }));
        Assert.All(sends, s => Assert.Equal(HttpStatusCode.Accepted, s.sent.StatusCode));
        Assert.All(sends, s => Assert.Contains(s.Status, new[] { "queued", "running", "completed" }));
        RuntimeReport.Line($"eight concurrent sends, attached at once: {sends.Count(s => s.Status == "queued" && s.attached.IsSuccessStatusCode)} found queued");
        foreach (int i in Enumerable.Range(1, 8))
        {
            Assert.Equal("completed", (await Finished(host, "rt-eight", $"k{i}")).GetProperty("status").GetString());
        }

        long done = Stopwatch.GetTimestamp();
        var calls = model.InOrder;
        Assert.Equal(8, calls.Count);
        Assert.Equal(1, model.MostAtOnce);
        for (int i = 0; i < calls.Count; i++)
        {
            // Each prompt is the one before it and one more message: the session's order, nothing lost, nothing twice.
            Assert.Equal(i + 1, calls[i].UserMessages.Count);
            Assert.Equal(i == 0 ? [] : calls[i - 1].UserMessages, calls[i].UserMessages.Take(i));
        }

        Assert.Equal(messages.Order(), calls[^1].UserMessages.Order());
        double modelMs = calls.Sum(c => RuntimeReport.Milliseconds(c.BeganAt, c.EndedAt));
        RuntimeReport.Line($"eight concurrent sends: {RuntimeReport.Milliseconds(began, done):F0} ms in all, {(RuntimeReport.Milliseconds(began, done) - modelMs) / 8:F0} ms a turn beyond the model");
    }

    [Fact]
    public async Task A_duplicate_by_key_sequential_or_concurrent_is_one_turn_and_one_model_call()
    {
        var model = Model(async c =>
        {
            await Task.Delay(300);
            await LoopbackModelServer.Ok(c, "once");
        });
        await using var host = await runtime.StartAsync();

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => host.Http.SendAsync(Post("/Chat/rt-dup/message", "hello", "same-key"))));
        var again = await host.Http.SendAsync(Post("/Chat/rt-dup/message", "hello", "same-key"));

        foreach (var response in concurrent.Append(again))
        {
            Assert.Equal("once", (await Expect(HttpStatusCode.OK, response)).GetProperty("answer").GetString());
        }

        Assert.Single(model.Calls);
        var history = await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/rt-dup/getHistory"));
        Assert.Equal(2, history.GetProperty("messages").GetArrayLength());
    }

    [Fact]
    public async Task A_model_that_answers_429_with_Retry_After_then_503_is_retried_until_it_answers()
    {
        int calls = 0;
        var model = Model(c => Interlocked.Increment(ref calls) switch
        {
            1 => LoopbackModelServer.Error(c, 429, "rate_limit_exceeded", "Slow down.", ("Retry-After", "2")),
            2 => LoopbackModelServer.Error(c, 503, "unavailable", "Try again."),
            _ => LoopbackModelServer.Ok(c, "third time lucky"),
        });
        await using var host = await runtime.StartAsync(("Session:ModelFirstRetryInterval", "00:00:00.500"));

        var answer = await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-retry/message", "hello", "t1")));

        Assert.Equal("third time lucky", answer.GetProperty("answer").GetString());
        var seen = model.InOrder;
        Assert.Equal(3, seen.Count);
        double waited = RuntimeReport.Milliseconds(seen[0].EndedAt, seen[1].BeganAt), backedOff = RuntimeReport.Milliseconds(seen[1].EndedAt, seen[2].BeganAt);
        RuntimeReport.Line($"retry: Retry-After 2 s honoured after {waited:F0} ms; 503 retried after {backedOff:F0} ms (back-off at least 1,000 ms)");
        // Durable timers on this backend can fire early: the waits are still never shorter than asked.
        Assert.True(waited >= 2000, $"Retry-After 2 s honoured after {waited:F0} ms");
        Assert.True(backedOff >= 1000, $"a 1,000 ms back-off waited {backedOff:F0} ms");
    }

    [Fact]
    public async Task Cancelling_a_running_turn_closes_the_model_request_and_the_turn_is_cancelled()
    {
        var closed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var model = Model(c => LoopbackModelServer.Endless(c, closed));
        await using var host = await runtime.StartAsync();

        await Expect(HttpStatusCode.Accepted, await host.Http.SendAsync(Post("/Chat/rt-cancel/message/send", "talk forever", "t1")));
        await Until(() => Status(host, "rt-cancel", "t1"), s => s.GetProperty("status").GetString() == "running", Turn, "the turn starting");
        await Task.Delay(500);
        long asked = Stopwatch.GetTimestamp();
        var cancelled = await host.Http.DeleteAsync("/Chat/rt-cancel/turns/t1");

        Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        int words = await closed.Task.WaitAsync(Turn);
        Assert.InRange(words, 1, 1199);
        Assert.Equal("cancelled", (await Finished(host, "rt-cancel", "t1")).GetProperty("status").GetString());
        RuntimeReport.Line($"cancel: model request closed {RuntimeReport.Milliseconds(asked, model.Calls.Single().EndedAt):F0} ms after the DELETE was sent");
    }

    [Fact]
    public async Task A_message_sent_with_interrupt_stops_the_running_turn_and_is_answered_after_its_partial_answer()
    {
        var closed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        var model = Model(c => Interlocked.Increment(ref calls) == 1 ? LoopbackModelServer.Endless(c, closed) : LoopbackModelServer.Ok(c, "new answer"));
        await using var host = await runtime.StartAsync();

        await Expect(HttpStatusCode.Accepted, await host.Http.SendAsync(Post("/Chat/rt-interrupt/message/send", "talk forever", "t1")));
        await Until(() => Status(host, "rt-interrupt", "t1"), s => s.GetProperty("status").GetString() == "running", Turn, "the first turn starting");
        await Task.Delay(500);
        var answer = await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-interrupt/message", "stop and answer me", "t2", strategy: "interrupt")));

        Assert.Equal("new answer", answer.GetProperty("answer").GetString());
        await closed.Task.WaitAsync(Turn);
        var first = await Status(host, "rt-interrupt", "t1");
        Assert.Equal("interrupted", first.GetProperty("status").GetString());
        Assert.StartsWith("w0 ", first.GetProperty("answer").GetString());
        // The second prompt held the interrupted turn's message, then the new one.
        Assert.Equal(["talk forever", "stop and answer me"], model.InOrder[^1].UserMessages);
    }
}
