using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.DurableTask.Entities;
using Moq;

namespace FunctionsChat.Tests.Auth;

/// <summary>With built-in authentication on, a caller reaches only sessions under their own key.</summary>
public class CallerIsolationTests
{
    const string AliceId = "entra/tenant/alice-oid";
    const string BobId = "entra/tenant/bob-oid";
    static readonly string Alice = PrincipalHeaders.Encode("aad", ("oid", "alice-oid"), ("tid", "tenant"));
    static readonly string Bob = PrincipalHeaders.Encode("aad", ("oid", "bob-oid"), ("tid", "tenant"));
    static readonly EntityInstanceId AliceSession = SessionEntityIds.For(SessionKeys.For(AliceId, "session123"));
    static readonly EntityInstanceId BobSession = SessionEntityIds.For(SessionKeys.For(BobId, "session123"));

    readonly HttpHarness http = new();

    public CallerIsolationTests()
    {
        http.Auth.Mode = AuthMode.EasyAuth;
        http.Store[AliceSession] = HttpHarness.BusySession();
    }

    static HttpRequest As(string principal, HttpRequest request)
    {
        request.Headers[CallerResolver.PrincipalHeader] = principal;
        return request;
    }

    [Fact]
    public async Task The_owner_reads_their_session()
    {
        var result = await http.History.GetHistory(As(Alice, HttpHarness.Request("GET", "/Chat/session123/getHistory")), http.Client.Object, "session123");

        Assert.IsType<OkObjectResult>(result);
        Assert.Equal([AliceSession], http.Reads);
    }

    [Fact]
    public async Task Another_caller_cannot_read_the_history_or_a_turn_and_sees_404_as_for_a_missing_session()
    {
        HttpHarness.Problem(await http.History.GetHistory(As(Bob, HttpHarness.Request("GET", "/Chat/session123/getHistory")), http.Client.Object, "session123"), 404, "session-not-found");
        HttpHarness.Problem(await http.Turns.GetTurn(As(Bob, HttpHarness.Request("GET", "/Chat/session123/turns/t1")), http.Client.Object, "session123", "t1"), 404, "session-not-found");

        Assert.All(http.Reads, id => Assert.Equal(BobSession, id));
    }

    [Fact]
    public async Task Another_caller_cannot_cancel_a_turn_of_the_session()
    {
        HttpHarness.Problem(await http.Turns.CancelTurn(As(Bob, HttpHarness.Request("DELETE", "/Chat/session123/turns/t2")), http.Client.Object, "session123", "t2"), 404, "session-not-found");

        Assert.Empty(http.Signals);
    }

    [Fact]
    public async Task Another_callers_send_and_delete_reach_only_their_own_session()
    {
        await http.Messages.SendMessage(As(Bob, HttpHarness.Post("/Chat/session123/message/send", "hi")), http.Client.Object, "session123");
        await http.Messages.CallMessage(As(Bob, HttpHarness.Post("/Chat/session123/message", "hi", "k1")), http.Client.Object, "session123");
        await http.Sessions.DeleteSession(As(Bob, HttpHarness.Request("DELETE", "/Chat/session123")), http.Client.Object, "session123");

        Assert.Equal(3, http.Signals.Count);
        Assert.All(http.Signals, s => Assert.Equal(BobSession, s.Id));
        Assert.DoesNotContain(AliceSession, http.Reads);
        Assert.Equal(HttpHarness.BusySession().Turns.Count, http.Store[AliceSession].Turns.Count);
    }

    [Fact]
    public async Task Listing_asks_only_for_the_callers_own_sessions_by_prefix()
    {
        EntityQuery? asked = null;
        var pageable = new Mock<AsyncPageable<EntityMetadata<ChatSessionState>>>();
        pageable.Setup(p => p.AsPages(It.IsAny<string?>(), It.IsAny<int?>())).Returns(Array.Empty<Page<EntityMetadata<ChatSessionState>>>().ToAsyncEnumerable());
        http.Entities.Setup(e => e.GetAllEntitiesAsync<ChatSessionState>(It.IsAny<EntityQuery?>())).Callback<EntityQuery?>(q => asked = q).Returns(pageable.Object);

        await http.Sessions.ListSessions(As(Bob, HttpHarness.Request("GET", "/Chat")), http.Client.Object);

        Assert.Equal("@chatsession@" + SessionKeys.Prefix(BobId), asked?.InstanceIdStartsWith);
        Assert.False(AliceSession.ToString().StartsWith(asked!.InstanceIdStartsWith!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_the_principal_every_route_is_401_and_touches_nothing()
    {
        var results = new[]
        {
            await http.Messages.CallMessage(HttpHarness.Post("/Chat/session123/message", "hi"), http.Client.Object, "session123"),
            await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "hi"), http.Client.Object, "session123"),
            await http.History.GetHistory(HttpHarness.Request("GET", "/Chat/session123/getHistory"), http.Client.Object, "session123"),
            await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/session123/turns/t1"), http.Client.Object, "session123", "t1"),
            await http.Turns.CancelTurn(HttpHarness.Request("DELETE", "/Chat/session123/turns/t1"), http.Client.Object, "session123", "t1"),
            await http.Sessions.DeleteSession(HttpHarness.Request("DELETE", "/Chat/session123"), http.Client.Object, "session123"),
            await http.Sessions.ListSessions(HttpHarness.Request("GET", "/Chat"), http.Client.Object),
        };

        Assert.All(results, r => HttpHarness.Problem(r, 401, "unauthorized"));
        Assert.Empty(http.Signals);
        Assert.Empty(http.Reads);
    }

    [Fact]
    public async Task Mode_None_keeps_the_walkthrough_working_without_any_header()
    {
        var anonymous = new HttpHarness { EntityApplies = true };

        await anonymous.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "hi", "k1"), anonymous.Client.Object, "session123");
        var history = await anonymous.History.GetHistory(HttpHarness.Request("GET", "/Chat/session123/getHistory"), anonymous.Client.Object, "session123");

        Assert.IsType<OkObjectResult>(history);
        Assert.Equal(SessionEntityIds.For(SessionKeys.For(CallerResolver.AnonymousCaller, "session123")), anonymous.Signals.Single().Id);
    }
}
