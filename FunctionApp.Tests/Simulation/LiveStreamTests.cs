using System.Net;
using System.Net.ServerSentEvents;
using System.Text.Json;
using static FunctionsChat.Tests.Hosting.ChatRequests;

namespace FunctionsChat.Tests.Simulation;

/// <summary>Server-sent events over a real Kestrel server hosting the HTTP functions, read with a real SSE parser.</summary>
[Collection(LiveHosts.Name)]
public class LiveStreamTests
{
    [Fact]
    public async Task A_streamed_call_answers_with_its_turns_events_and_the_deltas_join_to_the_answer()
    {
        await using var host = await LiveChatHost.StartAsync(sim => sim.Model.LongAnswers = true);

        var events = await ReadEvents(host.Http, Post("/Chat/live1/message", "Tell me a story!", "t1", streamed: true));

        Assert.Equal("started", events[0].EventType);
        Assert.Equal("completed", events[^1].EventType);
        Assert.True(events.Count(e => e.EventType == "delta") > 3);
        Assert.Equal(Field(events[^1], "answer"), Deltas(events));
        Assert.Equal(SimulatedModel.AnswerTo("Tell me a story!"), Field(events[^1], "answer")[..SimulatedModel.AnswerTo("Tell me a story!").Length]);
        Assert.Null(host.Failure);
    }

    [Fact]
    public async Task A_reader_reconnecting_with_Last_Event_ID_resumes_exactly_where_it_left()
    {
        await using var host = await LiveChatHost.StartAsync(sim => sim.Model.LongAnswers = true);
        var whole = await ReadEvents(host.Http, Post("/Chat/live2/message", "Tell me a story!", "t1", streamed: true));

        for (int cut = 1; cut < whole.Count; cut += 3)
        {
            var first = await ReadEvents(host.Http, Get("/Chat/live2/turns/t1/stream"), seen => seen.Count == cut);
            var rest = await ReadEvents(host.Http, Get("/Chat/live2/turns/t1/stream", first[^1].EventId));
            Assert.Equal(whole.Select(e => (e.EventType, e.EventId, e.Data)), first.Concat(rest).Select(e => (e.EventType, e.EventId, e.Data)));
        }
    }

    [Fact]
    public async Task Two_windows_on_one_session_see_the_same_events_in_the_same_order()
    {
        await using var host = await LiveChatHost.StartAsync(sim => sim.Model.LongAnswers = true);
        static bool ThreeAnswered(List<SseItem<string>> seen) => seen.Count(e => e.EventType == "completed") == 3;
        // Both windows have seen the session up to its first answer: a send answers 202 before the session takes it,
        // so a window opened fresh could first read the session after the sends' first events.
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(Post("/Chat/live3/message", "Hello", "a0"))).StatusCode);
        var session = host.Sim.State(FunctionsChat.Sessions.SessionEntityIds.For(FunctionsChat.Tests.Http.HttpHarness.Key("live3")))!;
        string seen = $"{session.Generation}.{session.Events}";
        var first = ReadEvents(host.Http, Get("/Chat/live3/events", seen), ThreeAnswered);
        await Task.Delay(150);
        var second = ReadEvents(host.Http, Get("/Chat/live3/events", seen), ThreeAnswered);

        // Two windows send at once, one of them twice.
        var sends = await Task.WhenAll(
            host.Http.SendAsync(Post("/Chat/live3/message/send", "A story", "a1")),
            host.Http.SendAsync(Post("/Chat/live3/message/send", "A poem", "b1")),
            host.Http.SendAsync(Post("/Chat/live3/message/send", "A joke", "a2")));
        Assert.All(sends, s => Assert.Equal(HttpStatusCode.Accepted, s.StatusCode));

        var one = await first;
        var two = await second;
        Assert.Equal(one.Select(e => (e.EventType, e.EventId, e.Data)), two.Select(e => (e.EventType, e.EventId, e.Data)));
        Assert.Equal(3, one.Count(e => e.EventType == "queued"));
        Assert.Equal(3, one.Count(e => e.EventType == "started"));
        foreach (var turn in new[] { "a1", "b1", "a2" })
        {
            var mine = one.Where(e => Field(e, "turnId") == turn).ToList();
            Assert.Equal(Field(mine[^1], "answer"), Deltas(mine));
        }
    }

    [Fact]
    public async Task A_retried_attempt_tells_readers_to_reset_and_the_answer_is_the_retried_attempts_words()
    {
        await using var host = await LiveChatHost.StartAsync(sim =>
        {
            sim.Model.LongAnswers = true;
            sim.Model.FailMidStream = 1;
        });

        var events = await ReadEvents(host.Http, Post("/Chat/live4/message", "Tell me a story!", "t1", streamed: true));

        int reset = events.FindIndex(e => e.EventType == "reset");
        Assert.True(reset > 1, string.Join(", ", events.Select(e => e.EventType)));
        Assert.Equal("completed", events[^1].EventType);
        Assert.Equal(Field(events[^1], "answer"), Deltas(events.Skip(reset)));
        Assert.StartsWith(Deltas(events.Take(reset)), Field(events[^1], "answer"));
    }

    [Fact]
    public async Task A_failed_turn_ends_its_events_with_a_problem()
    {
        await using var host = await LiveChatHost.StartAsync(sim => sim.Faults = Faults.None with { ModelPermanentFailure = 1 });

        var events = await ReadEvents(host.Http, Post("/Chat/live5/message", "Tell me a story!", "t1", streamed: true));

        Assert.Equal(["started", "failed"], events.Select(e => e.EventType));
        var problem = JsonDocument.Parse(events[^1].Data).RootElement;
        Assert.Equal(502, problem.GetProperty("status").GetInt32());
        Assert.Equal("urn:functionschat:problem:turn-failed", problem.GetProperty("type").GetString());
        Assert.Equal("t1", problem.GetProperty("turnId").GetString());
    }
}

/// <summary>
/// Tests that run the simulation in real time behind Kestrel, the browser's among them: they run alone, after the
/// others, since a simulation that falls behind the wall clock on a busy machine delivers a streamed answer in one burst.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveHosts
{
    public const string Name = "live hosts";
}
