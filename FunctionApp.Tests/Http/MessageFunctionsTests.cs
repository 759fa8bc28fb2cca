using Moq;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Entities;

namespace FunctionsChat.Tests.Http;

public class MessageFunctionsTests
{
    static readonly EntityInstanceId Session = FunctionsChat.Sessions.SessionEntityIds.For(HttpHarness.Key());

    [Fact]
    public async Task Send_signals_Enqueue_to_the_session_entity_and_answers_202_with_the_Location_of_the_turn()
    {
        var http = new HttpHarness { EntityApplies = true };

        var result = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "turn-1"), http.Client.Object, "session123");

        var accepted = Assert.IsType<AcceptedResult>(result);
        Assert.Equal("/Chat/session123/turns/turn-1", accepted.Location);
        Assert.Equal(new AcceptedView("session123", "turn-1", "/Chat/session123/turns/turn-1"), accepted.Value);
        var (id, operation, input) = Assert.Single(http.Signals);
        Assert.Equal((Session, "Enqueue"), (id, operation));
        // The trace context is the request's span, when a tracer listens in this process (telemetry's own tests check it).
        var request = TurnRequest.For("session123", "turn-1", "Write a poem", HttpHarness.Start) with { TraceParent = ((TurnRequest)input!).TraceParent };
        Assert.Equal(request, input);
        Assert.Equal("x0639132336000000000m2d0d52fa5d6db7a2e624ea31c4f6c459", request.MessageRef);
        Assert.Equal("Write a poem", http.Archive.Texts[(HttpHarness.Key(), request.MessageRef!)]);
    }

    [Fact]
    public async Task A_send_to_a_full_queue_is_429_at_once_with_nothing_stored_or_signalled()
    {
        var http = new HttpHarness { EntityApplies = true };
        http.Session.MaxPendingTurns = 3;
        http.State = Enumerable.Range(0, 4).Aggregate(ChatSessionState.Empty, (s, i) =>
            SessionTransitions.Enqueue(s, TurnRequest.For("session123", $"q{i}", $"queued {i}", HttpHarness.Start), HttpHarness.Start, http.Session.Limits).State);
        Assert.Equal(3, http.State.Pending.Count);

        var result = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "turn-1"), http.Client.Object, "session123");

        HttpHarness.Problem(result, 429, "session-busy");
        Assert.Empty(http.Archive.Texts);
        Assert.Empty(http.Archive.Requests);
        Assert.Empty(http.Signals);
        Assert.Single(http.Reads);
    }

    [Fact]
    public async Task A_caller_past_their_messages_per_minute_is_429_with_Retry_After_across_sessions_and_nothing_of_it_is_stored()
    {
        var http = new HttpHarness { EntityApplies = true };
        http.Quota.MessagesPerMinute = 2;

        var first = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "one", "k1"), http.Client.Object, "session123");
        var second = await http.Messages.SendMessage(HttpHarness.Post("/Chat/other/message/send", "two", "k2"), http.Client.Object, "other");
        var third = HttpHarness.Post("/Chat/session123/message/send", "three", "k3");
        var refused = await http.Messages.SendMessage(third, http.Client.Object, "session123");

        Assert.IsType<AcceptedResult>(first);
        Assert.IsType<AcceptedResult>(second);
        HttpHarness.Problem(refused, 429, "message-rate-limited");
        // The minute is counted in 5-second buckets: the first message leaves it 60 to 65 s after it came.
        Assert.Equal("65", third.HttpContext.Response.Headers.RetryAfter.ToString());
        var quota = FunctionsChat.Quota.CallerQuota.For(SessionKeys.OwnerOf(HttpHarness.Key()));
        Assert.Equal(["Enqueue", "Accepted", "Enqueue", "Accepted"], http.Signals.Select(s => s.Operation));
        Assert.Equal(2, http.Signals.Count(s => s.Id == quota));
        Assert.DoesNotContain("three", http.Archive.Texts.Values);
        Assert.DoesNotContain(http.Archive.Requests.Keys, k => k.TurnId == "k3");
    }

    [Fact]
    public async Task A_message_to_another_session_while_the_waiting_line_for_running_turns_is_full_is_429_with_nothing_stored()
    {
        var http = new HttpHarness();
        http.Quota.RunningTurns = 1;
        var quota = FunctionsChat.Quota.CallerQuota.For(SessionKeys.OwnerOf(HttpHarness.Key()));
        http.Usages[quota] = new CallerUsage
        {
            Running = [new SlotHolder("busy", "1.1")],
            Waiting = [.. Enumerable.Range(0, CallerSlotRules.MaxWaiting).Select(n => new SlotHolder($"waiting{n}", $"1.{n}"))],
        };
        var refusedRequest = HttpHarness.Post("/Chat/session123/message/send", "one", "k1");

        var refused = await http.Messages.SendMessage(refusedRequest, http.Client.Object, "session123");
        var waiting = await http.Messages.SendMessage(HttpHarness.Post("/Chat/waiting7/message/send", "two", "k2"), http.Client.Object, "waiting7");

        HttpHarness.Problem(refused, 429, "running-turns-limited");
        Assert.Equal("30", refusedRequest.HttpContext.Response.Headers.RetryAfter.ToString());
        Assert.DoesNotContain(http.Archive.Requests.Keys, k => k.TurnId == "k1");
        Assert.DoesNotContain("one", http.Archive.Texts.Values);
        // A session already waiting takes messages as usual.
        Assert.IsType<AcceptedResult>(waiting);
        Assert.Equal(["Enqueue", "Accepted"], http.Signals.Select(s => s.Operation));
    }

    [Fact]
    public async Task A_retry_of_a_message_accepted_but_not_yet_taken_is_not_refused_by_a_limit_reached_since_and_counts_again()
    {
        var http = new HttpHarness();
        http.Quota.MessagesPerMinute = 1;
        var quota = FunctionsChat.Quota.CallerQuota.For(SessionKeys.OwnerOf(HttpHarness.Key()));

        var first = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "one", "k1"), http.Client.Object, "session123");
        // The quota has counted it; the session has not taken it yet (its signal is on its way).
        http.Usages[quota] = CallerQuotaRules.Accepted(new CallerUsage(), http.Clock.GetUtcNow(), http.Quota.Limits);
        http.Clock.Advance(TimeSpan.FromSeconds(2));
        var retry = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "one", "k1"), http.Client.Object, "session123");
        var another = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "two", "k2"), http.Client.Object, "session123");

        Assert.IsType<AcceptedResult>(first);
        Assert.IsType<AcceptedResult>(retry);
        HttpHarness.Problem(another, 429, "message-rate-limited");
        // Counted again, at the moment of the request it retries: a first count that never landed is made up for.
        Assert.Equal(["Enqueue", "Accepted", "Enqueue", "Accepted"], http.Signals.Select(s => s.Operation));
        Assert.Equal(http.Signals[1].Input, http.Signals[3].Input);
    }

    [Fact]
    public async Task A_send_with_reject_to_a_session_with_a_turn_running_is_409_at_once_with_nothing_stored_or_signalled()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };
        var request = HttpHarness.Request("POST", "/Chat/session123/message/send", """{"message":"Write a poem","multitask_strategy":"reject"}""", idempotencyKey: "turn-1");

        var result = await http.Messages.SendMessage(request, http.Client.Object, "session123");

        HttpHarness.Problem(result, 409, "turn-in-progress");
        Assert.Empty(http.Archive.Texts);
        Assert.Empty(http.Archive.Requests);
        Assert.Empty(http.Signals);
    }

    [Fact]
    public async Task A_send_the_session_would_take_answers_202_after_one_read_and_its_Location_answers_queued_until_the_signal_lands()
    {
        var http = new HttpHarness();

        var result = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "turn-1"), http.Client.Object, "session123");
        var before = await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/session123/turns/turn-1"), http.Client.Object, "session123", "turn-1");
        // The signal lands, as real backends deliver it: later than the answer.
        var sent = (TurnRequest)Assert.Single(http.Signals).Input!;
        http.State = SessionTransitions.Enqueue(ChatSessionState.Empty, sent, http.Clock.GetUtcNow(), SessionLimits.Default).State;
        var after = await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/session123/turns/turn-1"), http.Client.Object, "session123", "turn-1");

        Assert.Equal("/Chat/session123/turns/turn-1", Assert.IsType<AcceptedResult>(result).Location);
        Assert.Equal(3, http.Reads.Count); // one before storing; then one a GET
        Assert.Empty(http.Clock.Delays);
        Assert.Equal(new RequestRecord("turn-1", sent.MessageHash, sent.AcceptedAt, sent.MessageRef!, "v1"), http.Archive.Requests[(HttpHarness.Key(), "turn-1")]);
        var queued = (TurnStatusView)Assert.IsType<OkObjectResult>(before).Value!;
        Assert.Equal(("turn-1", 0L, TurnStatus.Queued, (int?)null), (queued.TurnId, queued.Sequence, queued.Status, queued.Position));
        Assert.Equal(TurnStatus.Running, ((TurnStatusView)Assert.IsType<OkObjectResult>(after).Value!).Status);
    }

    [Fact]
    public async Task The_Location_of_a_send_a_later_delete_dropped_before_the_session_took_it_is_404()
    {
        var http = new HttpHarness();
        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "turn-1"), http.Client.Object, "session123");
        var sent = (TurnRequest)Assert.Single(http.Signals).Input!;
        var live = SessionTransitions.Enqueue(ChatSessionState.Empty, new TurnRequest("session123", "earlier", "hi", HttpHarness.Start.AddSeconds(-5)), HttpHarness.Start, SessionLimits.Default).State;
        http.State = SessionTransitions.Delete(live, new SessionDeletion(sent.AcceptedAt.AddMilliseconds(1)), http.Clock.GetUtcNow(), SessionLimits.Default).State;

        var location = await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/session123/turns/turn-1"), http.Client.Object, "session123", "turn-1");

        HttpHarness.Problem(location, 404, "session-not-found");
    }

    [Fact]
    public async Task A_retried_send_whose_signal_has_not_landed_signals_the_stored_request_again_and_stores_nothing_new()
    {
        var http = new HttpHarness();
        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "k1"), http.Client.Object, "session123");
        http.Clock.Advance(TimeSpan.FromSeconds(3));

        var retry = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "k1"), http.Client.Object, "session123");

        Assert.IsType<AcceptedResult>(retry);
        var (first, second) = ((TurnRequest)http.Signals[0].Input!, (TurnRequest)http.Signals[1].Input!);
        Assert.Equal((HttpHarness.Start, first.MessageRef), (second.AcceptedAt, second.MessageRef));
        Assert.Single(http.Archive.Texts);
        Assert.Equal("v1", http.Archive.Requests[(HttpHarness.Key(), "k1")].ETag);
    }

    [Fact]
    public async Task A_rival_message_under_a_key_a_stored_request_holds_is_422_with_nothing_of_it_stored_or_signalled()
    {
        var http = new HttpHarness();
        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "k1"), http.Client.Object, "session123");

        var rival = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a limerick", "k1"), http.Client.Object, "session123");

        HttpHarness.Problem(rival, 422, "idempotency-key-reused");
        Assert.Single(http.Signals);
        Assert.Equal(["Write a poem"], http.Archive.Texts.Values);
    }

    [Fact]
    public async Task A_retry_of_a_send_the_session_refused_is_a_new_request_and_the_refused_words_go()
    {
        var http = new HttpHarness();
        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "k1"), http.Client.Object, "session123");
        var refused = (TurnRequest)Assert.Single(http.Signals).Input!;
        // A full queue refused it after its 202 (the state filled between the read and the signal).
        http.Session.MaxPendingTurns = 3;
        var full = Enumerable.Range(0, 4).Aggregate(ChatSessionState.Empty, (s, i) =>
            SessionTransitions.Enqueue(s, TurnRequest.For("session123", $"q{i}", $"queued {i}", HttpHarness.Start), HttpHarness.Start, http.Session.Limits).State);
        var refusing = SessionTransitions.Enqueue(full, refused, HttpHarness.Start, http.Session.Limits);
        Assert.Equal(TransitionNote.QueueFull, refusing.Note);
        var refusedView = await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/session123/turns/k1"), http.Client.Object, "session123", "k1");
        http.State = refusing.State;
        var atRefusal = await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/session123/turns/k1"), http.Client.Object, "session123", "k1");
        http.State = SessionTransitions.Cancel(refusing.State, new TurnCancellation("q2"), HttpHarness.Start, http.Session.Limits).State;
        http.Clock.Advance(TimeSpan.FromSeconds(3));

        var retry = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "Write a poem", "k1"), http.Client.Object, "session123");

        Assert.IsType<AcceptedResult>(retry);
        Assert.Equal(TurnStatus.Queued, ((TurnStatusView)Assert.IsType<OkObjectResult>(refusedView).Value!).Status);
        Assert.Equal((ErrorCodes.QueueFull, TurnStatus.Failed), (((TurnStatusView)Assert.IsType<OkObjectResult>(atRefusal).Value!).Error?.Code, ((TurnStatusView)((OkObjectResult)atRefusal).Value!).Status));
        var again = (TurnRequest)http.Signals[1].Input!;
        Assert.Equal(HttpHarness.Start.AddSeconds(3), again.AcceptedAt);
        Assert.Equal([again.MessageRef!], http.Archive.Texts.Keys.Select(k => k.Key));
        Assert.Equal(again.AcceptedAt, http.Archive.Requests[(HttpHarness.Key(), "k1")].AcceptedAt);
    }

    [Fact]
    public async Task A_call_the_session_has_not_confirmed_within_its_bound_is_503_with_the_key_to_retry_with()
    {
        var http = new HttpHarness();
        http.Api.CallTimeout = TimeSpan.FromSeconds(30);
        var request = HttpHarness.Post("/Chat/session123/message", "Write a poem");

        var result = await http.Messages.CallMessage(request, http.Client.Object, "session123");

        HttpHarness.Problem(result, 503, "not-confirmed");
        string turnId = ((TurnRequest)Assert.Single(http.Signals).Input!).TurnId;
        Assert.Equal(turnId, request.HttpContext.Response.Headers["Idempotency-Key"].ToString());
        Assert.Equal("1", request.HttpContext.Response.Headers.RetryAfter.ToString());
        Assert.Equal(HttpHarness.Start.AddSeconds(30), http.Clock.GetUtcNow());
        Assert.Null(http.State);
    }

    [Fact]
    public async Task A_call_with_no_time_to_wait_still_waits_for_the_session_to_take_its_message_and_answers_202()
    {
        var http = new HttpHarness { EntityApplies = true };
        http.Api.CallTimeout = TimeSpan.Zero;

        var result = await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "Write a poem", "k1"), http.Client.Object, "session123");

        Assert.Equal("/Chat/session123/turns/k1", Assert.IsType<AcceptedResult>(result).Location);
    }

    [Fact]
    public async Task A_call_dropped_by_a_delete_requested_after_it_is_409_session_deleted()
    {
        var http = new HttpHarness();
        http.AfterRead = reads =>
        {
            if (reads == 2)
            {
                var request = (TurnRequest)http.Signals.Single().Input!;
                var live = SessionTransitions.Enqueue(ChatSessionState.Empty, new TurnRequest("session123", "earlier", "hi", HttpHarness.Start.AddSeconds(-5)), HttpHarness.Start, SessionLimits.Default).State;
                http.State = SessionTransitions.Delete(live, new SessionDeletion(request.AcceptedAt.AddMilliseconds(1)), http.Clock.GetUtcNow(), SessionLimits.Default).State;
            }
        };

        var result = await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "Write a poem", "turn-1"), http.Client.Object, "session123");

        HttpHarness.Problem(result, 409, "session-deleted");
        Assert.Null(SessionQueries.FindTurn(http.State!, "turn-1"));
    }

    [Fact]
    public async Task Send_without_an_Idempotency_Key_makes_a_new_turn_id_each_time()
    {
        var http = new HttpHarness();

        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "a"), http.Client.Object, "session123");
        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "a"), http.Client.Object, "session123");

        var ids = http.Signals.Select(s => ((TurnRequest)s.Input!).TurnId).ToList();
        Assert.Equal(2, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(SessionIds.IsValid(id)));
    }

    [Fact]
    public async Task A_retried_send_with_the_same_key_and_message_is_the_same_turn_and_signals_nothing_new()
    {
        var http = new HttpHarness { EntityApplies = true };

        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "hello", "k1"), http.Client.Object, "session123");
        var retried = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "hello", "k1"), http.Client.Object, "session123");

        Assert.Equal("k1", ((AcceptedView)Assert.IsType<AcceptedResult>(retried).Value!).TurnId);
        Assert.Single(http.Signals);
    }

    [Fact]
    public async Task A_key_reused_for_another_message_is_422_and_changes_nothing()
    {
        var http = new HttpHarness { EntityApplies = true };
        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "hello", "k1"), http.Client.Object, "session123");
        var before = http.State;

        var result = await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "something else", "k1"), http.Client.Object, "session123");

        HttpHarness.Problem(result, 422, "idempotency-key-reused");
        Assert.Single(http.Signals);
        Assert.Same(before, http.State);
    }

    [Fact]
    public async Task Call_of_a_turn_already_answered_returns_the_answer_at_once_without_a_new_signal()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };

        var result = await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "message t1", "t1"), http.Client.Object, "session123");

        var ok = Assert.IsType<OkObjectResult>(result);
        Assert.Equal(new AnswerView("session123", "t1", "answer t1", "gpt-test", new TokenUsage(3, 4)), ok.Value);
        Assert.Empty(http.Signals);
        Assert.Empty(http.Clock.Delays);
    }

    [Fact]
    public async Task A_send_the_API_could_not_judge_looks_at_the_session_10_ms_after_signalling_then_backs_off_doubling()
    {
        var http = new HttpHarness();
        var looks = new List<DateTimeOffset>();
        http.AfterRead = reads =>
        {
            looks.Add(http.Clock.GetUtcNow());
            if (reads == 1)
            {
                throw new InvalidOperationException("The Durable client's call timed out.");
            }

            if (reads == 4)
            {
                // The session takes the message between the third and the fourth look after the signal.
                http.State = SessionTransitions.Enqueue(ChatSessionState.Empty, (TurnRequest)http.Signals.Single().Input!, http.Clock.GetUtcNow(), SessionLimits.Default).State;
            }
        };

        var result = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "hi", "k1"), http.Client.Object, "session123");

        Assert.IsType<AcceptedResult>(result);
        Assert.Equal([0, 0, 10, 30, 70], looks.Select(l => (l - HttpHarness.Start).TotalMilliseconds));
    }

    [Fact]
    public async Task Call_waits_for_the_answer_backing_off_between_looks_at_the_session_while_it_watches_the_answers_stream()
    {
        var http = new HttpHarness { EntityApplies = true };
        http.Api.PollInitialDelay = TimeSpan.FromMilliseconds(100); // the schedule below starts at 100 ms
        http.AfterRead = reads =>
        {
            if (reads == 6)
            {
                http.Complete("k1", "A poem about durable execution.");
            }
        };

        var result = await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "Write a poem", "k1"), http.Client.Object, "session123");

        var ok = Assert.IsType<OkObjectResult>(result);
        Assert.Equal("A poem about durable execution.", ((AnswerView)ok.Value!).Answer);
        Assert.Equal(7, http.Reads.Count); // one before signalling, then six looks, 100, 200, 400, 800 and 1000 ms apart
        Assert.Equal(Enumerable.Repeat(100.0, 25), http.Clock.Delays.Select(d => d.TotalMilliseconds)); // the stream, every 100 ms
    }

    [Fact]
    public async Task Call_reads_the_session_every_20_ms_once_its_answers_last_chunk_is_written_and_answers_at_the_first_read_that_has_it()
    {
        var http = new HttpHarness { EntityApplies = true };
        http.Api.PollInitialDelay = TimeSpan.FromMilliseconds(100); // the schedule below starts at 100 ms
        var looks = new List<DateTimeOffset>();
        http.AfterRead = reads =>
        {
            looks.Add(http.Clock.GetUtcNow());
            if (reads == 3)
            {
                var turn = http.State!.Active!.Turn;
                http.Archive.AppendAsync(HttpHarness.Key(), StreamKeys.Of(turn.AcceptedAt, "k1"), new StreamChunk(StreamKeys.NewAttempt(http.Clock.GetUtcNow()), 0, "A poem.", true), default);
            }

            if (reads == 6)
            {
                http.Complete("k1", "A poem.");
            }
        };

        var result = await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "Write a poem", "k1"), http.Client.Object, "session123");

        Assert.Equal("A poem.", ((AnswerView)Assert.IsType<OkObjectResult>(result).Value!).Answer);
        // Looks at 0 ms (twice: before signalling, then waiting) and 100 ms, when the last chunk is written; the stream's
        // next read (200 ms) sees it, and from then on the session is looked at every 20 ms: the answer is there at 260.
        Assert.Equal([0, 0, 100, 200, 220, 240, 260], looks.Select(l => (l - HttpHarness.Start).TotalMilliseconds));
    }

    [Fact]
    public async Task Call_past_its_bound_answers_202_with_the_Location_of_the_turn_after_few_looks()
    {
        var http = new HttpHarness { EntityApplies = true };

        var result = await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "slow one", "k1"), http.Client.Object, "session123");

        var accepted = Assert.IsType<AcceptedResult>(result);
        Assert.Equal("/Chat/session123/turns/k1", accepted.Location);
        Assert.Equal(TimeSpan.FromSeconds(120), http.Clock.Delays.Aggregate(TimeSpan.Zero, (a, b) => a + b));
        Assert.InRange(http.Reads.Count, 100, 130); // 120 s at most one look a second: back-off, never a tight loop
    }

    [Fact]
    public async Task Call_stops_looking_when_the_client_goes_away()
    {
        var http = new HttpHarness { EntityApplies = true };
        using var aborted = new CancellationTokenSource();
        http.AfterRead = reads =>
        {
            if (reads == 3)
            {
                aborted.Cancel();
            }
        };

        var result = await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "hi", "k1", aborted.Token), http.Client.Object, "session123");

        Assert.IsType<EmptyResult>(result);
        Assert.Equal(3, http.Reads.Count);
    }

    [Theory]
    [InlineData("llm.unauthorized", 502, "turn-failed")]
    [InlineData("turn.expired", 504, "turn-expired")]
    public async Task Call_of_a_turn_that_failed_answers_a_problem(string code, int status, string type)
    {
        var http = new HttpHarness { EntityApplies = true };
        http.AfterRead = reads =>
        {
            if (reads == 2)
            {
                http.Fail("k1", code);
            }
        };

        var result = await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "hi", "k1"), http.Client.Object, "session123");

        var problem = HttpHarness.Problem(result, status, type);
        Assert.Contains(code, problem.Detail);
    }

    [Fact]
    public async Task A_send_to_a_session_that_cannot_be_read_is_stored_and_signalled_and_answers_503_naming_the_key_to_repeat_it_with()
    {
        var http = new HttpHarness();
        http.Entities.Setup(e => e.GetEntityAsync<ChatSessionState>(It.IsAny<EntityInstanceId>(), true, It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, bool, CancellationToken>((id, _, _) => throw new InvalidOperationException("The Durable client's call timed out."));
        var request = HttpHarness.Post("/Chat/session123/message/send", "Hello");

        var result = await http.Messages.SendMessage(request, http.Client.Object, "session123");

        HttpHarness.Problem(result, 503, "not-confirmed");
        var sent = (TurnRequest)Assert.Single(http.Signals).Input!;
        Assert.Equal(sent.TurnId, request.HttpContext.Response.Headers["Idempotency-Key"].ToString());
        Assert.Equal("1", request.HttpContext.Response.Headers.RetryAfter.ToString());
    }

    [Fact]
    public async Task A_streamed_call_past_the_callers_open_streams_is_refused_429_with_nothing_stored_or_sent()
    {
        var http = new HttpHarness();
        http.Api.MaxStreamsPerCaller = 1;
        using var open = http.Streams.TryEnter(SessionKeys.OwnerOf(HttpHarness.Key()), 1);
        var request = HttpHarness.Post("/Chat/session123/message", "Write a poem", "turn-1");
        request.Headers.Accept = "text/event-stream";

        var result = await http.Messages.CallMessage(request, http.Client.Object, "session123");

        HttpHarness.Problem(result, 429, "too-many-streams");
        Assert.Empty(http.Signals);
        Assert.Empty(http.Archive.Texts);
        Assert.Empty(http.Reads);
    }
}
