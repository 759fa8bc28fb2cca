using FunctionsChat.Domain;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.DurableTask.Entities;
using Moq;

namespace FunctionsChat.Tests.Http;

/// <summary>When the Durable client fails (a gRPC call that times out, a storage hiccup), a delete or a cancel says what the caller can do.</summary>
public class UnreachableSessionTests
{
    static void ReadsFail(HttpHarness http, int after = 0)
    {
        int reads = 0;
        http.Entities.Setup(e => e.GetEntityAsync<ChatSessionState>(It.IsAny<EntityInstanceId>(), true, It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, bool, CancellationToken>((id, _, _) => ++reads > after
                ? throw new InvalidOperationException("The Durable client's call timed out.")
                : Task.FromResult(http.Store.GetValueOrDefault(id) is { } state ? new EntityMetadata<ChatSessionState>(id, state) : null));
    }

    static void SignalsFail(HttpHarness http) =>
        http.Entities.Setup(e => e.SignalEntityAsync(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("The Durable client's call timed out."));

    [Fact]
    public async Task A_delete_that_cannot_be_sent_answers_503_to_repeat_it_and_changes_nothing()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };
        var before = http.State;
        SignalsFail(http);
        var request = HttpHarness.Request("DELETE", "/Chat/session123", contentType: null);

        var result = await http.Sessions.DeleteSession(request, http.Client.Object, "session123");

        HttpHarness.Problem(result, 503, "session-unavailable");
        Assert.Equal("1", request.HttpContext.Response.Headers.RetryAfter.ToString());
        Assert.Same(before, http.State);
    }

    [Fact]
    public async Task A_delete_sent_whose_outcome_cannot_be_read_answers_202_with_where_to_look()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };
        ReadsFail(http);

        var result = await http.Sessions.DeleteSession(HttpHarness.Request("DELETE", "/Chat/session123", contentType: null), http.Client.Object, "session123");

        Assert.Equal("/Chat/session123/getHistory", Assert.IsType<AcceptedResult>(result).Location);
        Assert.Equal("Delete", Assert.Single(http.Signals).Operation);
    }

    [Fact]
    public async Task A_cancel_whose_turn_cannot_be_read_answers_503_and_sends_nothing()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };
        ReadsFail(http);

        var result = await http.Turns.CancelTurn(HttpHarness.Request("DELETE", "/Chat/session123/turns/t3", contentType: null), http.Client.Object, "session123", "t3");

        HttpHarness.Problem(result, 503, "session-unavailable");
        Assert.Empty(http.Signals);
    }

    [Fact]
    public async Task A_cancel_sent_whose_outcome_cannot_be_read_answers_202()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };
        ReadsFail(http, after: 1);

        var result = await http.Turns.CancelTurn(HttpHarness.Request("DELETE", "/Chat/session123/turns/t2", contentType: null), http.Client.Object, "session123", "t2");

        Assert.Equal("/Chat/session123/turns/t2", Assert.IsType<AcceptedResult>(result).Location);
        Assert.Equal("Cancel", Assert.Single(http.Signals).Operation);
        Assert.Empty(http.Terminated);
    }

    [Fact]
    public async Task A_send_whose_session_cannot_be_read_is_still_stored_and_signalled_and_answers_503_with_its_key()
    {
        var http = new HttpHarness();
        ReadsFail(http);
        var request = HttpHarness.Post("/Chat/session123/message/send", "hi", "k1");

        var result = await http.Messages.SendMessage(request, http.Client.Object, "session123");

        HttpHarness.Problem(result, 503, "not-confirmed");
        Assert.Equal("k1", request.HttpContext.Response.Headers["Idempotency-Key"].ToString());
        Assert.Equal("Enqueue", Assert.Single(http.Signals).Operation);
    }

    [Fact]
    public async Task Reads_of_history_and_turn_that_cannot_reach_the_session_answer_503_to_repeat()
    {
        var http = new HttpHarness { State = HttpHarness.BusySession() };
        ReadsFail(http);
        var history = HttpHarness.Request("GET", "/Chat/session123/getHistory", contentType: null);
        var turn = HttpHarness.Request("GET", "/Chat/session123/turns/t2", contentType: null);

        HttpHarness.Problem(await http.History.GetHistory(history, http.Client.Object, "session123"), 503, "session-unavailable");
        HttpHarness.Problem(await http.Turns.GetTurn(turn, http.Client.Object, "session123", "t2"), 503, "session-unavailable");
        Assert.Equal(("1", "1"), (history.HttpContext.Response.Headers.RetryAfter.ToString(), turn.HttpContext.Response.Headers.RetryAfter.ToString()));
    }

    [Fact]
    public async Task A_listing_the_task_hub_cannot_answer_is_503_to_repeat()
    {
        var http = new HttpHarness();
        http.Entities.Setup(e => e.GetAllEntitiesAsync<ChatSessionState>(It.IsAny<EntityQuery?>()))
            .Returns(Microsoft.DurableTask.Pageable.Create<EntityMetadata<ChatSessionState>>((string? _, int? _, CancellationToken _) =>
                Task.FromException<Microsoft.DurableTask.Page<EntityMetadata<ChatSessionState>>>(new InvalidOperationException("The query timed out."))));
        var request = HttpHarness.Request("GET", "/Chat", contentType: null);

        HttpHarness.Problem(await http.Sessions.ListSessions(request, http.Client.Object), 503, "sessions-unavailable");
        Assert.Equal("1", request.HttpContext.Response.Headers.RetryAfter.ToString());
    }
}
