using FunctionsChat.Domain;
using FunctionsChat.Http;

namespace FunctionsChat.Tests.Http;

/// <summary>Every bad request answers a problem with its own type, and neither signals nor changes a session.</summary>
public class BadInputTests
{
    readonly HttpHarness http = new() { State = HttpHarness.BusySession() };

    void NothingChanged(ChatSessionState? before)
    {
        Assert.Empty(http.Signals);
        Assert.Same(before, http.State);
        Assert.Empty(http.Archive.Texts);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("bad/slash")]
    [InlineData("")]
    public async Task A_session_id_outside_the_allowed_shape_is_400_on_every_route(string sessionId)
    {
        var before = http.State;

        HttpHarness.Problem(await http.Messages.CallMessage(HttpHarness.Post("/Chat/x/message", "hi"), http.Client.Object, sessionId), 400, "invalid-session-id");
        HttpHarness.Problem(await http.Messages.SendMessage(HttpHarness.Post("/Chat/x/message/send", "hi"), http.Client.Object, sessionId), 400, "invalid-session-id");
        HttpHarness.Problem(await http.History.GetHistory(HttpHarness.Request("GET", "/Chat/x/getHistory"), http.Client.Object, sessionId), 400, "invalid-session-id");
        HttpHarness.Problem(await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/x/turns/t1"), http.Client.Object, sessionId, "t1"), 400, "invalid-session-id");
        HttpHarness.Problem(await http.Turns.CancelTurn(HttpHarness.Request("DELETE", "/Chat/x/turns/t1"), http.Client.Object, sessionId, "t1"), 400, "invalid-session-id");
        HttpHarness.Problem(await http.Sessions.DeleteSession(HttpHarness.Request("DELETE", "/Chat/x"), http.Client.Object, sessionId), 400, "invalid-session-id");
        HttpHarness.Problem(await new TurnStreamFunctions(http.Callers, http.Archive, http.Clock, http.Events(http.Clock)).StreamTurn(HttpHarness.Request("GET", "/Chat/x/turns/t1/stream"), http.Client.Object, sessionId, "t1"), 400, "invalid-session-id");
        HttpHarness.Problem(await new SessionEventFunctions(http.Callers, http.Events(http.Clock)).SessionEvents(HttpHarness.Request("GET", "/Chat/x/events"), http.Client.Object, sessionId), 400, "invalid-session-id");
        NothingChanged(before);
        Assert.Empty(http.Reads);
    }

    [Fact]
    public async Task A_session_id_longer_than_128_characters_is_400()
    {
        HttpHarness.Problem(await http.Messages.SendMessage(HttpHarness.Post("/Chat/x/message/send", "hi"), http.Client.Object, new string('a', 129)), 400, "invalid-session-id");
        Assert.Empty(http.Signals);
    }

    [Fact]
    public async Task An_Idempotency_Key_outside_the_allowed_shape_is_400()
    {
        var before = http.State;

        HttpHarness.Problem(await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "hi", "not a key!"), http.Client.Object, "session123"), 400, "invalid-turn-id");
        NothingChanged(before);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task A_body_that_is_not_declared_json_is_415(string? contentType)
    {
        var before = http.State;

        var result = await http.Messages.CallMessage(HttpHarness.Request("POST", "/Chat/session123/message", "{\"message\":\"hi\"}", contentType), http.Client.Object, "session123");

        HttpHarness.Problem(result, 415, "unsupported-media-type");
        NothingChanged(before);
    }

    [Theory]
    [InlineData("not json at all", "invalid-json")]
    [InlineData("{\"message\": ", "invalid-json")]
    [InlineData("{\"text\":\"hi\"}", "missing-message")]
    [InlineData("{\"message\":null}", "missing-message")]
    [InlineData("\"just a string\"", "missing-message")]
    [InlineData("{\"message\":\"  \\n\\t \"}", "empty-message")]
    [InlineData("{\"message\":\"hi\",\"multitask_strategy\":\"sometimes\"}", "invalid-multitask-strategy")]
    [InlineData("{\"message\":\"hi\",\"multitask_strategy\":\"Interrupt\"}", "invalid-multitask-strategy")]
    [InlineData("{\"message\":\"hi\",\"multitask_strategy\":3}", "invalid-multitask-strategy")]
    public async Task A_body_without_a_usable_message_is_400(string body, string type)
    {
        var before = http.State;

        var result = await http.Messages.SendMessage(HttpHarness.Request("POST", "/Chat/session123/message/send", body), http.Client.Object, "session123");

        HttpHarness.Problem(result, 400, type);
        NothingChanged(before);
    }

    [Theory]
    [InlineData("{\"message\":\"\\ud800\"}")] // a lone surrogate escape
    [InlineData("{\"message\":\"hi\"} garbage")] // trailing data
    [InlineData("{\"message\":\"hi\"}{\"message\":\"again\"}")] // two objects
    public async Task Json_that_holds_no_single_valid_message_is_400_not_500(string body)
    {
        var before = http.State;

        var result = await http.Messages.SendMessage(HttpHarness.Request("POST", "/Chat/session123/message/send", body), http.Client.Object, "session123");

        HttpHarness.Problem(result, 400, "invalid-json");
        NothingChanged(before);
    }

    [Fact]
    public async Task Bytes_that_are_not_UTF_8_inside_the_message_are_400_not_500()
    {
        var before = http.State;
        byte[] body = [.. "{\"message\":\"a"u8, 0xC3, 0x28, 0xFF, .. "\"}"u8];
        var request = HttpHarness.Request("POST", "/Chat/session123/message/send");
        request.Body = new MemoryStream(body);
        request.ContentType = "application/json";

        var result = await http.Messages.SendMessage(request, http.Client.Object, "session123");

        HttpHarness.Problem(result, 400, "invalid-json");
        NothingChanged(before);
    }

    [Fact]
    public async Task A_client_that_goes_away_while_its_body_is_read_gets_no_answer_and_nothing_is_signalled()
    {
        var before = http.State;
        using var aborted = new CancellationTokenSource();
        var request = HttpHarness.Request("POST", "/Chat/session123/message/send", aborted: aborted.Token);
        request.ContentType = "application/json";
        request.Body = new BreakingStream("{\"message\":\"hal"u8.ToArray(), () => aborted.Cancel(), new IOException("The client reset the request stream."));

        var result = await http.Messages.SendMessage(request, http.Client.Object, "session123");

        Assert.IsType<Microsoft.AspNetCore.Mvc.EmptyResult>(result);
        NothingChanged(before);
    }

    [Fact]
    public async Task A_body_cut_short_by_the_connection_is_400()
    {
        var before = http.State;
        var request = HttpHarness.Request("POST", "/Chat/session123/message/send");
        request.ContentType = "application/json";
        request.Body = new BreakingStream("{\"message\":\"hal"u8.ToArray(), () => { }, new Microsoft.AspNetCore.Http.BadHttpRequestException("Unexpected end of request content."));

        var result = await http.Messages.SendMessage(request, http.Client.Object, "session123");

        HttpHarness.Problem(result, 400, "incomplete-body");
        NothingChanged(before);
    }

    /// <summary>A request body that yields some bytes, then breaks the way a dropped connection does.</summary>
    sealed class BreakingStream(byte[] first, Action beforeBreaking, Exception failure) : Stream
    {
        bool served;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!served)
            {
                served = true;
                first.CopyTo(buffer);
                return new(first.Length);
            }

            beforeBreaking();
            throw failure;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task A_message_over_the_configured_size_is_413()
    {
        var before = http.State;
        http.Api.MaxMessageBytes = 16;

        var result = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", new string('x', 17)), http.Client.Object, "session123");

        HttpHarness.Problem(result, 413, "message-too-large");
        NothingChanged(before);
    }

    [Fact]
    public async Task A_body_declaring_more_bytes_than_any_message_may_have_is_413_before_it_is_read()
    {
        var request = HttpHarness.Post("/Chat/session123/message/send", "short");
        request.ContentLength = 10_000_000;

        HttpHarness.Problem(await http.Messages.SendMessage(request, http.Client.Object, "session123"), 413, "message-too-large");
        Assert.Equal(0, request.Body.Position);
        Assert.Empty(http.Signals);
    }

    [Fact]
    public async Task A_turn_id_outside_the_allowed_shape_is_400()
    {
        HttpHarness.Problem(await http.Turns.GetTurn(HttpHarness.Request("GET", "/Chat/session123/turns/x"), http.Client.Object, "session123", "bad id"), 400, "invalid-turn-id");
        Assert.Empty(http.Signals);
    }
}
