using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;

namespace FunctionsChat.Tests.Http;

public class TurnEventsTests
{
    const string Key = "anonymous/s1";
    static readonly DateTimeOffset Accepted = HttpHarness.Start;

    static TurnView View(TurnStatus status, int? position = null, TranscriptTurn? finished = null) =>
        new("t1", 1, status, Fingerprint.Of("hi"), position, finished) { AcceptedAt = Accepted };

    static TranscriptTurn Done(string answer, string attempt) =>
        new("t1", 1, TurnStatus.Completed, "hi", Fingerprint.Of("hi"), Accepted, Accepted.AddSeconds(5)) { Answer = answer, Model = "gpt-test", Usage = new(3, 4), Attempt = attempt };

    static async Task<List<SseItem<string>>> Read(TurnEvents events, InMemoryArchive streams, Func<int, TurnView?> script, string? lastEventId = null)
    {
        int reads = 0;
        var items = new List<SseItem<string>>();
        await foreach (var item in events.ReadAsync(_ => Task.FromResult(script(reads++)), Key, "s1", lastEventId, CancellationToken.None))
        {
            items.Add(item);
        }

        return items;
    }

    [Fact]
    public async Task A_turn_is_followed_from_its_place_in_the_queue_through_its_deltas_and_a_retried_attempt_to_its_answer()
    {
        var streams = new InMemoryArchive();
        var clock = new VirtualClock(HttpHarness.Start);
        var events = new TurnEvents(streams, clock);
        string stream = StreamKeys.Of(Accepted, "t1");
        string first = StreamKeys.NewAttempt(Accepted.AddSeconds(1));
        string second = StreamKeys.NewAttempt(Accepted.AddSeconds(2));

        var items = await Read(events, streams, read =>
        {
            switch (read)
            {
                case 0: return View(TurnStatus.Queued, 2);
                case 1: return View(TurnStatus.Queued, 1);
                case 2:
                    streams.AppendAsync(Key, stream, new(first, 0, "Once ", false), default);
                    return View(TurnStatus.Running);
                case 3:
                    streams.AppendAsync(Key, stream, new(first, 1, "upon", false), default);
                    return View(TurnStatus.Running);
                case 4:
                    return View(TurnStatus.Running);
                case 5:
                    streams.AppendAsync(Key, stream, new(second, 0, "Once upon ", false), default);
                    streams.AppendAsync(Key, stream, new(second, 1, "a time.", true), default);
                    return View(TurnStatus.Running);
                default:
                    return View(TurnStatus.Completed, finished: Done("Once upon a time.", second));
            }
        });

        Assert.Equal(
            ["queued", "queued", "started", "delta", "delta", "reset", "delta", "delta", "completed"],
            items.Select(i => i.EventType));
        Assert.Equal(["Once ", "upon", "Once upon ", "a time."], items.Where(i => i.EventType == "delta").Select(i => JsonDocument.Parse(i.Data).RootElement.GetProperty("text").GetString()));
        Assert.Equal("Once upon a time.", JsonDocument.Parse(items[^1].Data).RootElement.GetProperty("answer").GetString());
        Assert.Equal(items.Count, items.Select(i => i.EventId).Distinct().Count());

        // Reads come every 100 ms while events come, and back off while nothing changes.
        Assert.Equal([100, 100, 100, 100, 200, 100], clock.Delays.Select(d => d.TotalMilliseconds));
    }

    [Fact]
    public async Task A_finished_turn_replays_its_accepted_attempt_and_a_reader_resuming_after_any_event_gets_exactly_the_rest()
    {
        var streams = new InMemoryArchive();
        var events = new TurnEvents(streams, new VirtualClock(HttpHarness.Start));
        string stream = StreamKeys.Of(Accepted, "t1");
        string abandoned = StreamKeys.NewAttempt(Accepted.AddSeconds(1));
        string accepted = StreamKeys.NewAttempt(Accepted.AddSeconds(2));
        await streams.AppendAsync(Key, stream, new(abandoned, 0, "Once ", false), default);
        await streams.AppendAsync(Key, stream, new(accepted, 0, "Once upon ", false), default);
        await streams.AppendAsync(Key, stream, new(accepted, 1, "a time.", true), default);
        TurnView? Finished(int _) => View(TurnStatus.Completed, finished: Done("Once upon a time.", accepted));

        var replay = await Read(events, streams, Finished);

        Assert.Equal(["started", "delta", "delta", "completed"], replay.Select(i => i.EventType));
        for (int i = 0; i < replay.Count; i++)
        {
            var rest = await Read(events, streams, Finished, replay[i].EventId);
            Assert.Equal(replay.Skip(i + 1).Select(e => (e.EventType, e.EventId, e.Data)), rest.Select(e => (e.EventType, e.EventId, e.Data)));
        }

        // A reader that was following the abandoned attempt is told to reset, then gets the accepted one whole.
        var moved = await Read(events, streams, Finished, $"{abandoned}.000000");
        Assert.Equal(["reset", "delta", "delta", "completed"], moved.Select(i => i.EventType));
    }

    [Fact]
    public async Task A_failed_turn_ends_with_a_problem_event_over_HTTP_written_and_read_with_the_server_sent_events_libraries()
    {
        var http = new HttpHarness();
        var state = SessionTransitions.Enqueue(ChatSessionState.Empty, TurnRequest.For("session123", "t1", "hi", HttpHarness.Start), HttpHarness.Start, SessionLimits.Default).State;
        http.State = state;
        http.Fail("t1", ModelFailure.RateLimited);
        var functions = new TurnStreamFunctions(http.Callers, http.Archive, new VirtualClock(HttpHarness.Start), http.Events(new VirtualClock(HttpHarness.Start)));

        var result = await functions.StreamTurn(HttpHarness.Request("GET", "/Chat/session123/turns/t1/stream", contentType: null), http.Client.Object, "session123", "t1");
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));

        Assert.Equal("text/event-stream", context.Response.ContentType);
        var parsed = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(new MemoryStream(body.ToArray())).EnumerateAsync())
        {
            parsed.Add(item);
        }

        Assert.Equal(["started", "failed"], parsed.Select(i => i.EventType));
        var problem = JsonDocument.Parse(parsed[^1].Data).RootElement;
        Assert.Equal(502, problem.GetProperty("status").GetInt32());
        Assert.Equal(TurnEvents.End, parsed[^1].EventId);

        var missing = await functions.StreamTurn(HttpHarness.Request("GET", "/Chat/session123/turns/nope/stream", contentType: null), http.Client.Object, "session123", "nope");
        Assert.Equal(404, Assert.IsAssignableFrom<ObjectResult>(missing).StatusCode);
    }

    [Fact]
    public async Task A_call_that_accepts_event_streams_is_answered_with_the_turns_events_through_to_its_answer()
    {
        var http = new HttpHarness { EntityApplies = true };
        http.AfterRead = reads =>
        {
            var running = http.State?.Active?.Turn;
            if (reads == 4 && running is not null)
            {
                string stream = StreamKeys.Of(running.AcceptedAt, running.TurnId);
                string attempt = StreamKeys.NewAttempt(http.Clock.GetUtcNow());
                http.Archive.AppendAsync(HttpHarness.Key(), stream, new(attempt, 0, "A poem ", false), default);
                http.Archive.AppendAsync(HttpHarness.Key(), stream, new(attempt, 1, "about durable execution.", true), default);
            }

            if (reads == 6 && running is not null)
            {
                http.Complete(running.TurnId, "A poem about durable execution.");
            }
        };
        var request = HttpHarness.Post("/Chat/session123/message", "Write a poem", "turn-1");
        request.Headers.Accept = "text/event-stream";

        var result = await http.Messages.CallMessage(request, http.Client.Object, "session123");
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;
        await result.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));

        var parsed = new List<SseItem<string>>();
        await foreach (var item in SseParser.Create(new MemoryStream(body.ToArray())).EnumerateAsync())
        {
            parsed.Add(item);
        }

        Assert.Equal(["started", "delta", "delta", "completed"], parsed.Select(i => i.EventType));
        Assert.Equal("A poem about durable execution.", JsonDocument.Parse(parsed[^1].Data).RootElement.GetProperty("answer").GetString());
        Assert.Equal((HttpHarness.Key(), "Enqueue"), (http.Signals.Single().Id.Key, http.Signals.Single().Operation));
    }

    [Fact]
    public async Task A_caller_past_its_open_streams_is_answered_429_until_one_ends()
    {
        var http = new HttpHarness();
        http.Api.MaxStreamsPerCaller = 1;
        http.State = SessionTransitions.Enqueue(ChatSessionState.Empty, TurnRequest.For("session123", "t1", "hi", HttpHarness.Start), HttpHarness.Start, SessionLimits.Default).State;
        http.Complete("t1", "done");
        var functions = new TurnStreamFunctions(http.Callers, http.Archive, new VirtualClock(HttpHarness.Start), http.Events(new VirtualClock(HttpHarness.Start)));
        Task<IActionResult> Open() => functions.StreamTurn(HttpHarness.Request("GET", "/Chat/session123/turns/t1/stream", contentType: null), http.Client.Object, "session123", "t1");

        var first = Assert.IsType<SseResult>(await Open());
        var refused = Assert.IsAssignableFrom<ObjectResult>(await Open());
        Assert.Equal((429, "urn:functionschat:problem:too-many-streams"), (refused.StatusCode, ((ProblemDetails)refused.Value!).Type));

        var context = new DefaultHttpContext { Response = { Body = new MemoryStream() } };
        await first.ExecuteResultAsync(new ActionContext(context, new RouteData(), new ActionDescriptor()));

        Assert.IsType<SseResult>(await Open());
    }
}
