using System.Net;
using System.Text.Json;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Llm;
using static FunctionsChat.Tests.Hosting.ChatRequests;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// A session's life over HTTP on the real Durable runtime: archive and paging, delete, listing, resumable streams,
/// worst-case text and retention.
/// </summary>
[Collection(DurableRuntimeCollection.Name)]
public class RuntimeSessionTests(DurableRuntimeFixture runtime)
{
    static readonly TimeSpan Patient = TimeSpan.FromSeconds(30);

    static async Task<List<string>> AllMessages(DurableRuntimeHost host, string session)
    {
        var pages = new List<List<string>>();
        string? next = $"/Chat/{session}/getHistory";
        while (next is not null)
        {
            var page = await Expect(HttpStatusCode.OK, await host.Http.GetAsync(next));
            pages.Insert(0, page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()!).ToList());
            next = page.GetProperty("previousPage").ValueKind == JsonValueKind.String ? page.GetProperty("previousPage").GetString() : null;
        }

        return pages.SelectMany(p => p).ToList();
    }

    [Fact]
    public async Task Forty_turns_are_archived_out_of_the_session_and_paged_back_exactly()
    {
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, "answer");
        await using var host = await runtime.StartAsync(("Session:MaxWorkingTurns", "4"));

        for (int i = 1; i <= 40; i++)
        {
            await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-archive/message", $"m{i}", $"t{i}")));
        }

        var state = await Until(
            async () => (await host.Client.Entities.GetEntityAsync<ChatSessionState>(SessionEntityIds.For(SessionKeys.For(FunctionsChat.Auth.CallerResolver.AnonymousCaller, "rt-archive"))))?.State,
            s => s is { Turns.Count: <= 4 },
            Patient,
            "archiving down to the working set");

        Assert.Equal(Enumerable.Range(1, 40).SelectMany(i => new[] { $"m{i}", "answer" }), await AllMessages(host, "rt-archive"));
        Assert.True(state!.ArchivedThrough >= 36, $"archived through {state.ArchivedThrough}");
    }

    [Fact]
    public async Task A_session_deleted_with_turns_queued_is_gone_and_nothing_of_it_comes_back()
    {
        var closed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ModelProbe();
        runtime.Model.Respond = probe.Around(c => LoopbackModelServer.Endless(c, closed));
        await using var host = await runtime.StartAsync();

        foreach (int i in new[] { 1, 2, 3 })
        {
            await Expect(HttpStatusCode.Accepted, await host.Http.SendAsync(Post("/Chat/rt-delete/message/send", $"m{i}", $"t{i}")));
        }

        await Until(() => Task.FromResult(probe.MostAtOnce), n => n == 1, Patient, "the first turn's model call");
        var deleted = await host.Http.DeleteAsync("/Chat/rt-delete");
        Assert.True(deleted.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.Accepted, deleted.StatusCode.ToString());

        await closed.Task.WaitAsync(Patient);
        await Until(async () => (await host.Http.GetAsync("/Chat/rt-delete/getHistory")).StatusCode, s => s == HttpStatusCode.NotFound, Patient, "the session going");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync("/Chat/rt-delete/getHistory")).StatusCode);
        foreach (int i in new[] { 1, 2, 3 })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/Chat/rt-delete/turns/t{i}")).StatusCode);
        }

        Assert.Single(probe.Calls);
    }

    [Fact]
    public async Task Listing_pages_through_the_callers_sessions()
    {
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, "hi");
        await using var host = await runtime.StartAsync();
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-list-a/message", "one", "t1")));
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-list-b/message", "one", "t1")));
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-list-b/message", "two", "t2")));

        var page = await Until(
            async () => await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat?pageSize=1")),
            p => p.GetProperty("sessions").GetArrayLength() == 1,
            Patient,
            "a first page of sessions");
        var sessions = page.GetProperty("sessions").EnumerateArray().ToList();
        string token = page.GetProperty("continuationToken").GetString()!;
        var second = await Expect(HttpStatusCode.OK, await host.Http.GetAsync($"/Chat?pageSize=1&continuationToken={Uri.EscapeDataString(token)}"));
        sessions.AddRange(second.GetProperty("sessions").EnumerateArray());

        Assert.Equal(
            [("rt-list-a", 1), ("rt-list-b", 2)],
            sessions.Select(s => (s.GetProperty("id").GetString(), s.GetProperty("messageCount").GetInt32())).Order());
    }

    [Fact]
    public async Task A_turns_stream_and_the_sessions_events_resume_exactly_after_Last_Event_ID()
    {
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, "A durable answer in two halves.");
        await using var host = await runtime.StartAsync();

        // A window on the session opens first: it follows what happens from then on.
        static bool BothDone(List<System.Net.ServerSentEvents.SseItem<string>> seen) => seen.Count(e => e.EventType == "completed") == 2;
        var window = ReadEvents(host.Http, Get("/Chat/rt-sse/events"), BothDone);
        await Task.Delay(300);
        var whole = await ReadEvents(host.Http, Post("/Chat/rt-sse/message", "Tell me a story!", "t1", streamed: true));
        Assert.Equal("completed", whole[^1].EventType);
        Assert.Equal("A durable answer in two halves.", Deltas(whole));
        for (int cut = 1; cut < whole.Count; cut++)
        {
            var first = await ReadEvents(host.Http, Get("/Chat/rt-sse/turns/t1/stream"), seen => seen.Count == cut);
            var rest = await ReadEvents(host.Http, Get("/Chat/rt-sse/turns/t1/stream", first[^1].EventId));
            Assert.Equal(whole.Select(e => (e.EventType, e.EventId, e.Data)), first.Concat(rest).Select(e => (e.EventType, e.EventId, e.Data)));
        }

        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-sse/message", "Another!", "t2")));
        var session = await window;
        int middle = session.Count / 2;
        var resumed = await ReadEvents(host.Http, Get("/Chat/rt-sse/events", session[middle].EventId), seen => seen[^1].EventId == session[^1].EventId);
        Assert.Equal(session.Skip(middle + 1).Select(e => (e.EventType, e.EventId, e.Data)), resumed.Select(e => (e.EventType, e.EventId, e.Data)));
    }

    [Fact]
    public async Task Worst_case_text_is_answered_and_the_stored_sizes_are_printed()
    {
        // Characters System.Text.Json writes as six bytes each, the longest message allowed, ids of 128 characters.
        string worst = new('<', 32_768);
        string session = new string('s', 124) + "-w~1";
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, worst);
        await using var host = await runtime.StartAsync();

        for (int i = 1; i <= 3; i++)
        {
            string turn = new string('t', 127) + i;
            var answer = await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post($"/Chat/{session}/message", worst, turn)));
            Assert.Equal(worst.Length, answer.GetProperty("answer").GetString()!.Length);
        }

        var id = SessionEntityIds.For(SessionKeys.For(FunctionsChat.Auth.CallerResolver.AnonymousCaller, session));
        var sizes = await StoredSizes.ReadAsync(runtime.Storage, host.TaskHub, id.ToString());
        var state = (await host.Client.Entities.GetEntityAsync<ChatSessionState>(id))!.State;
        RuntimeReport.Line($"worst-case text, 3 turns: {sizes}; the state measures {PayloadBudget.Bytes(state):N0} B");
        Assert.Equal(0, sizes.LargeMessageBlobs);
        AssertMeasured(state, sizes);
    }

    /// <summary>What the backend stored for the entity is within the app's measure of its state and the backend's wrapper.</summary>
    static void AssertMeasured(ChatSessionState state, StoredSizes sizes)
    {
        Assert.InRange(sizes.EntityStateBytes, 1, PayloadBudget.Bytes(state) + (61_440 - PayloadBudget.MaxBytes));
    }

    [Fact]
    public async Task Four_hundred_turns_of_3_KB_answers_never_put_a_payload_in_the_large_message_blobs()
    {
        string answer = string.Concat(Enumerable.Repeat("A durable answer, \"quoted\" now and then, that goes on for a while. ", 50))[..3_000];
        var model = new ModelProbe();
        runtime.Model.Respond = model.Around(c => LoopbackModelServer.Ok(c, answer));
        await using var host = await runtime.StartAsync();
        var id = SessionEntityIds.For(SessionKeys.For(FunctionsChat.Auth.CallerResolver.AnonymousCaller, "rt-400"));

        int largestState = 0;
        var beyondModel = new List<double>();
        for (int i = 1; i <= 400; i++)
        {
            long sent = System.Diagnostics.Stopwatch.GetTimestamp();
            await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-400/message", $"Question {i}: tell me more about durable sessions, please.", $"t{i}")));
            long answered = System.Diagnostics.Stopwatch.GetTimestamp();
            var call = model.InOrder[^1];
            beyondModel.Add(RuntimeReport.Milliseconds(sent, answered) - RuntimeReport.Milliseconds(call.BeganAt, call.EndedAt));
            if (i % 50 == 0)
            {
                var sizes = await StoredSizes.ReadAsync(runtime.Storage, host.TaskHub, id.ToString());
                largestState = Math.Max(largestState, sizes.EntityStateBytes);
                Assert.True(sizes.LargeMessageBlobs == 0, $"after turn {i}: {sizes}");
            }
        }

        var last = await StoredSizes.ReadAsync(runtime.Storage, host.TaskHub, id.ToString());
        var state = (await host.Client.Entities.GetEntityAsync<ChatSessionState>(id))!.State;
        RuntimeReport.Line($"400 turns of 3 KB answers: largest entity state seen {largestState:N0} B; at the end {last}");
        RuntimeReport.Line($"400 turns of 3 KB answers: time beyond the model, median of the first 10 {RuntimeReport.Median(beyondModel.Take(10)):F0} ms, of the last 10 {RuntimeReport.Median(beyondModel.TakeLast(10)):F0} ms");
        var lastPrompt = model.InOrder[^1];
        RuntimeReport.Line($"400 turns of 3 KB answers: the model received on turn 400 {lastPrompt.Messages} messages, {lastPrompt.BodyBytes / 1024.0:F0} KB");
        Assert.Equal(0, last.LargeMessageBlobs);
        AssertMeasured(state, last);
    }

    [Fact]
    public async Task An_idle_session_deletes_itself_after_a_short_retention()
    {
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, "bye");
        await using var host = await runtime.StartAsync(("Session:IdleRetention", "00:00:03"));

        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-idle/message", "hello", "t1")));
        var id = SessionEntityIds.For(SessionKeys.For(FunctionsChat.Auth.CallerResolver.AnonymousCaller, "rt-idle"));
        var last = (await host.Client.Entities.GetEntityAsync<ChatSessionState>(id))!.State.LastActivityAt;

        // Read every 50 ms: the first 404 comes within 50 ms of the delete, which must not come before the retention.
        await Until(async () => (await host.Http.GetAsync("/Chat/rt-idle/getHistory")).StatusCode, s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(40), "retention deleting the session");
        var gone = DateTimeOffset.UtcNow - last;
        RuntimeReport.Line($"retention 3 s: the session was gone {gone.TotalSeconds:F2} s after its last activity");
        Assert.True(gone >= TimeSpan.FromSeconds(3), $"deleted {gone.TotalSeconds:F2} s after its last activity");
    }
}
