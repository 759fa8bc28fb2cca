using FunctionsChat.Domain;
using FunctionsChat.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.DurableTask.Entities;
using Moq;

namespace FunctionsChat.Tests.Http;

public class ReadFunctionsTests
{
    static readonly EntityInstanceId Session = FunctionsChat.Sessions.SessionEntityIds.For(HttpHarness.Key());

    [Fact]
    public async Task GetHistory_returns_messages_pending_and_active_from_committed_state_without_signalling()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };

        var result = await http.History.GetHistory(HttpHarness.Request("GET", "/Chat/session123/getHistory"), http.Client.Object, "session123");

        var history = Assert.IsType<HistoryView>(Assert.IsType<OkObjectResult>(result).Value);
        Assert.Equal([("user", "message t1"), ("assistant", "answer t1")], history.Messages.Select(m => (m.Role, m.Content)));
        Assert.Equal("t2", history.Active?.TurnId);
        Assert.Equal(("t3", 1), (history.Pending.Single().TurnId, history.Pending.Single().Position));
        Assert.Equal([Session], http.Reads);
        Assert.Empty(http.Signals);
    }

    [Fact]
    public async Task GetHistory_pages_back_into_the_archive_in_order_with_no_gaps_or_repeats()
    {
        var http = new HttpHarness();
        var limits = SessionLimits.Default with { MaxWorkingTurns = 100 };
        var state = ChatSessionState.Empty;
        for (int i = 1; i <= 25; i++)
        {
            state = SessionTransitions.Enqueue(state, new TurnRequest("session123", $"t{i}", $"q{i}", HttpHarness.Start), HttpHarness.Start, limits).State;
            state = SessionTransitions.Complete(state, new TurnCompletion($"t{i}", $"a{i}", "m", new TokenUsage(1, 1), HttpHarness.Start), HttpHarness.Start, limits).State;
        }

        await http.Archive.WriteAsync(HttpHarness.Key(), state.Turns.Take(17).ToArray(), CancellationToken.None);
        http.State = state with { Turns = state.Turns.Skip(17).ToArray(), ArchivedThrough = 17 };

        var seen = new List<string>();
        var request = HttpHarness.Request("GET", "/Chat/session123/getHistory");
        var view = (HistoryView)((OkObjectResult)await http.History.GetHistory(request, http.Client.Object, "session123")).Value!;
        seen.InsertRange(0, view.Messages.Select(m => m.Content));
        while (view.Before is { } before)
        {
            request = HttpHarness.Request("GET", "/Chat/session123/getHistory");
            request.QueryString = new Microsoft.AspNetCore.Http.QueryString($"?before={before}&limit=5");
            view = (HistoryView)((OkObjectResult)await http.History.GetHistory(request, http.Client.Object, "session123")).Value!;
            Assert.True(view.Messages.Count <= 10);
            seen.InsertRange(0, view.Messages.Select(m => m.Content));
        }

        Assert.Equal(Enumerable.Range(1, 25).SelectMany(i => new[] { $"q{i}", $"a{i}" }), seen);
        Assert.Equal([(18L, 5), (13L, 5), (8L, 5), (3L, 5)], http.Archive.Reads);
    }

    [Theory]
    [InlineData("before=0")]
    [InlineData("before=x")]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    public async Task GetHistory_with_a_bad_cursor_is_400(string query)
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };
        var request = HttpHarness.Request("GET", "/Chat/session123/getHistory");
        request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?" + query);

        HttpHarness.Problem(await http.History.GetHistory(request, http.Client.Object, "session123"), 400, "invalid-query");
        Assert.Empty(http.Reads);
    }

    [Fact]
    public async Task GetHistory_of_a_session_that_does_not_exist_is_404()
    {
        var http = new HttpHarness();

        var result = await http.History.GetHistory(HttpHarness.Request("GET", "/Chat/nobody/getHistory"), http.Client.Object, "nobody");

        HttpHarness.Problem(result, 404, "session-not-found");
    }

    [Theory]
    [InlineData("t1", TurnStatus.Completed, null, "answer t1")]
    [InlineData("t2", TurnStatus.Running, null, null)]
    [InlineData("t3", TurnStatus.Queued, 1, null)]
    public async Task GetTurn_tells_the_turn_status_position_and_answer(string turnId, TurnStatus status, int? position, string? answer)
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };

        var result = await http.Turns.GetTurn(HttpHarness.Request("GET", $"/Chat/session123/turns/{turnId}"), http.Client.Object, "session123", turnId);

        var view = Assert.IsType<TurnStatusView>(Assert.IsType<OkObjectResult>(result).Value);
        Assert.Equal((turnId, status, position, answer), (view.TurnId, view.Status, view.Position, view.Answer));
    }

    [Fact]
    public async Task GetTurn_of_a_failed_turn_carries_its_error_code_and_message()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };
        http.Fail("t2", "llm.content_filtered");

        var result = await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/session123/turns/t2"), http.Client.Object, "session123", "t2");

        var view = Assert.IsType<TurnStatusView>(Assert.IsType<OkObjectResult>(result).Value);
        Assert.Equal((TurnStatus.Failed, "llm.content_filtered", "went wrong"), (view.Status, view.Error?.Code, view.Error?.Message));
    }

    [Fact]
    public async Task GetTurn_of_an_unknown_turn_is_404()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };

        var result = await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/session123/turns/t9"), http.Client.Object, "session123", "t9");

        HttpHarness.Problem(result, 404, "turn-not-found");
    }

    [Theory]
    [InlineData("t2")]
    [InlineData("t3")]
    public async Task CancelTurn_of_a_running_or_queued_turn_signals_Cancel_and_answers_202(string turnId)
    {
        var state = HttpHarness.BusySession();
        var http = new HttpHarness { State = state };
        string run = SessionQueries.RunOf(state, state.Active!.Turn.Sequence);
        // The session takes the cancel; the running turn's activity stops and reports what its model had said.
        http.AfterRead = reads =>
        {
            if (reads == 2)
            {
                var stopping = SessionTransitions.Cancel(state, new TurnCancellation(turnId), HttpHarness.Start, SessionLimits.Default).State;
                http.State = turnId == "t2"
                    ? SessionTransitions.Complete(stopping, new TurnCompletion("t2", "Once", "gpt-test", new TokenUsage(1, 1), HttpHarness.Start) { Run = run, Stopped = true }, HttpHarness.Start, SessionLimits.Default).State
                    : stopping;
            }
        };

        var result = await http.Turns.CancelTurn(HttpHarness.Request("DELETE", $"/Chat/session123/turns/{turnId}"), http.Client.Object, "session123", turnId);

        Assert.Equal($"/Chat/session123/turns/{turnId}", Assert.IsType<AcceptedResult>(result).Location);
        Assert.Equal([(Session, "Cancel", (object?)new TurnCancellation(turnId))], http.Signals);
        // A running turn's orchestration is terminated by its known instance id once the session has finished the turn;
        // a queued turn has none.
        Assert.Equal(turnId == "t2" ? [SessionIds.TurnInstanceId(HttpHarness.Key(), "t2", run)] : [], http.Terminated);
    }

    [Fact]
    public async Task CancelTurn_does_not_terminate_a_turn_the_session_has_not_finished_within_the_wait()
    {
        // Terminated before it reports, the turn would lose what its model had said: the session's stop check ends it.
        var http = new HttpHarness { State = HttpHarness.BusySession() };

        var result = await http.Turns.CancelTurn(HttpHarness.Request("DELETE", "/Chat/session123/turns/t2"), http.Client.Object, "session123", "t2");

        Assert.IsType<AcceptedResult>(result);
        Assert.Empty(http.Terminated);
    }

    [Fact]
    public async Task CancelTurn_of_a_finished_turn_is_409_and_of_an_unknown_turn_404_and_neither_signals()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };

        HttpHarness.Problem(await http.Turns.CancelTurn(HttpHarness.Request("DELETE", "/Chat/session123/turns/t1"), http.Client.Object, "session123", "t1"), 409, "turn-finished");
        HttpHarness.Problem(await http.Turns.CancelTurn(HttpHarness.Request("DELETE", "/Chat/session123/turns/t9"), http.Client.Object, "session123", "t9"), 404, "turn-not-found");
        Assert.Empty(http.Signals);
    }

    [Fact]
    public async Task DeleteSession_signals_Delete_and_answers_204_also_the_second_time()
    {
        var http = new HttpHarness();

        var first = await http.Sessions.DeleteSession(HttpHarness.Request("DELETE", "/Chat/session123"), http.Client.Object, "session123");
        var second = await http.Sessions.DeleteSession(HttpHarness.Request("DELETE", "/Chat/session123"), http.Client.Object, "session123");

        Assert.IsType<NoContentResult>(first);
        Assert.IsType<NoContentResult>(second);
        var deletion = new SessionDeletion(HttpHarness.Start);
        Assert.Equal([(Session, "Delete", (object?)deletion), (Session, "Delete", deletion)], http.Signals);
    }

    [Fact]
    public async Task DeleteSession_answers_204_only_once_the_delete_has_happened()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };
        http.AfterRead = reads =>
        {
            if (reads == 3)
            {
                http.State = SessionTransitions.Delete(http.State!, (SessionDeletion)http.Signals.Single().Input!, http.Clock.GetUtcNow(), SessionLimits.Default).State;
            }
        };

        var result = await http.Sessions.DeleteSession(HttpHarness.Request("DELETE", "/Chat/session123"), http.Client.Object, "session123");

        Assert.IsType<NoContentResult>(result);
        Assert.Equal(4, http.Reads.Count);
        Assert.True(http.State!.IsTombstone);
    }

    [Fact]
    public async Task DeleteSession_answers_202_with_the_history_to_poll_when_the_delete_is_still_on_its_way_at_the_bound()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };

        var result = await http.Sessions.DeleteSession(HttpHarness.Request("DELETE", "/Chat/session123"), http.Client.Object, "session123");

        var accepted = Assert.IsType<AcceptedResult>(result);
        Assert.Equal("/Chat/session123/getHistory", accepted.Location);
        Assert.Equal(http.Api.CallTimeout, http.Clock.GetUtcNow() - HttpHarness.Start);
    }

    [Fact]
    public async Task GetHistory_shows_the_summary_of_the_earliest_turns_and_an_answer_s_warning()
    {
        var http = new HttpHarness();
        var state = HttpHarness.BusySession();
        http.State = state with
        {
            SummaryThrough = 40,
            ArchivedThrough = 40,
            Turns = [state.Turns[0] with { Warning = "summary.failed: llm.timeout" }],
        };
        http.Archive.Summaries[HttpHarness.Key()] = new ConversationSummary(40, "The user planned a trip.", HttpHarness.Start);

        var result = await http.History.GetHistory(HttpHarness.Request("GET", "/Chat/session123/getHistory", contentType: null), http.Client.Object, "session123");

        var view = Assert.IsType<HistoryView>(Assert.IsType<OkObjectResult>(result).Value);
        Assert.Equal(new SummaryView(40, "The user planned a trip.", HttpHarness.Start), view.Summary);
        Assert.Equal("summary.failed: llm.timeout", view.Messages.Single(m => m.Role == "assistant").Warning);
    }

    [Fact]
    public async Task GetHistory_never_shows_a_summary_written_for_an_earlier_life_of_the_session()
    {
        var http = new HttpHarness();
        http.State = HttpHarness.BusySession() with { Generation = 1, ArchivedThrough = 40 };
        http.Archive.Summaries[HttpHarness.Key()] = new ConversationSummary(40, "What the deleted life said.", HttpHarness.Start) { Generation = 0 };

        var result = await http.History.GetHistory(HttpHarness.Request("GET", "/Chat/session123/getHistory", contentType: null), http.Client.Object, "session123");

        Assert.Null(Assert.IsType<HistoryView>(Assert.IsType<OkObjectResult>(result).Value).Summary);
    }

    [Fact]
    public async Task ListSessions_queries_session_entities_by_prefix_one_page_at_a_time()
    {
        var http = new HttpHarness();
        EntityQuery? asked = null;
        var pageable = new Mock<AsyncPageable<EntityMetadata<ChatSessionState>>>(MockBehavior.Strict);
        var page = new Page<EntityMetadata<ChatSessionState>>([new(Session, HttpHarness.BusySession())], "next-token");
        pageable.Setup(p => p.AsPages("token-1", 2)).Returns(new[] { page }.ToAsyncEnumerable());
        http.Entities.Setup(e => e.GetAllEntitiesAsync<ChatSessionState>(It.IsAny<EntityQuery?>()))
            .Callback<EntityQuery?>(q => asked = q)
            .Returns(pageable.Object);

        var request = HttpHarness.Request("GET", "/Chat");
        string scope = "@chatsession@" + SessionKeys.Prefix("anonymous");
        request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?pageSize=2&continuationToken=" + Uri.EscapeDataString(ListingCursor.Seal("token-1", scope)));

        var listed = await http.Sessions.ListSessions(request, http.Client.Object);

        var view = Assert.IsType<SessionPageView>(Assert.IsType<OkObjectResult>(listed).Value);
        Assert.Equal(new SessionSummaryView("session123", 1, HttpHarness.Start.AddSeconds(1)), Assert.Single(view.Sessions));
        Assert.True(ListingCursor.TryOpen(view.ContinuationToken!, scope, out string next));
        Assert.Equal("next-token", next);
        Assert.Equal(new EntityQuery { InstanceIdStartsWith = scope, IncludeState = true, PageSize = 2, ContinuationToken = "token-1" }, asked);
    }

    [Theory]
    [InlineData("token-1")] // the backend's own token, not one the API handed out
    [InlineData("%%%")]
    [InlineData("dG9rZW4tMQ.0123456789abcdef0123456789abcdef")] // a well-formed token with a made-up checksum
    public async Task ListSessions_with_a_continuation_token_it_did_not_hand_out_is_400_and_asks_the_backend_nothing(string token)
    {
        var http = new HttpHarness();
        var request = HttpHarness.Request("GET", "/Chat");
        request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?continuationToken=" + Uri.EscapeDataString(token));

        var problem = HttpHarness.Problem(await http.Sessions.ListSessions(request, http.Client.Object), 400, "invalid-query");

        Assert.Contains("continuationToken", problem.Title);
        http.Entities.Verify(e => e.GetAllEntitiesAsync<ChatSessionState>(It.IsAny<EntityQuery?>()), Times.Never);
    }

    [Fact]
    public async Task A_continuation_token_of_one_caller_is_refused_for_another()
    {
        var http = new HttpHarness();
        var request = HttpHarness.Request("GET", "/Chat");
        string theirs = ListingCursor.Seal("token-1", "@chatsession@" + SessionKeys.Prefix("someone-else"));
        request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?continuationToken=" + Uri.EscapeDataString(theirs));

        HttpHarness.Problem(await http.Sessions.ListSessions(request, http.Client.Object), 400, "invalid-query");
    }

    [Theory]
    [InlineData("PUT", "Session", "DELETE")]
    [InlineData("HEAD", "History", "GET")]
    [InlineData("GET", "Message", "POST")]
    [InlineData("PATCH", "Turn", "GET, DELETE")]
    [InlineData("DELETE", "Sessions", "GET")]
    [InlineData("GET", "Send", "POST")]
    public void A_method_a_known_route_does_not_serve_is_405_with_Allow_and_a_problem(string method, string route, string allow)
    {
        var functions = new MethodNotAllowedFunctions();
        var request = HttpHarness.Request(method, "/Chat/session123", contentType: null);
        var handler = typeof(MethodNotAllowedFunctions).GetMethod(route)!;

        var result = (IActionResult)handler.Invoke(functions, [request])!;

        var problem = HttpHarness.Problem(result, 405, "method-not-allowed");
        Assert.Equal(allow, request.HttpContext.Response.Headers.Allow.ToString());
        Assert.Contains(method, problem.Detail);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("ten")]
    public async Task ListSessions_with_a_bad_page_size_is_400(string pageSize)
    {
        var http = new HttpHarness();
        var request = HttpHarness.Request("GET", "/Chat");
        request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?pageSize=" + pageSize);

        HttpHarness.Problem(await http.Sessions.ListSessions(request, http.Client.Object), 400, "invalid-query");
    }
}
