using System.ClientModel.Primitives;
using FunctionsChat.Domain;
using FunctionsChat.Llm;
using FunctionsChat.Turns;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Tests.Llm;

/// <summary>The real client stack (OpenAI + Microsoft.Extensions.AI) against a loopback server.</summary>
public sealed class ModelCallOverHttpTests : IAsyncLifetime
{
    static readonly ContextFitter Fitter = new(ContextFitter.CreateTokenizer());
    static readonly ReplyRequest Request = new("session123", "t2", [new("user", "Hi"), new("assistant", "Hello!")], "Write a poem");

    LoopbackModelServer server = null!;

    public async Task InitializeAsync() => server = await LoopbackModelServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    LlmOptions Azure() => new()
    {
        Provider = LlmProvider.AzureOpenAI,
        Endpoint = server.BaseAddress,
        Model = "chat-deployment",
        ApiKey = "test-azure-key",
        SystemPrompt = "Be brief.",
        RequestTimeout = TimeSpan.FromSeconds(30),
    };

    LlmOptions OpenAICompatible() => new()
    {
        Provider = LlmProvider.OpenAI,
        Endpoint = new Uri(server.BaseAddress, "v1"),
        Model = "llama3.2",
        ApiKey = "test-openai-key",
        SystemPrompt = "Be brief.",
        RequestTimeout = TimeSpan.FromSeconds(30),
    };

    static Task<ModelReply> Call(LlmOptions options) =>
        new GenerateReply(ChatClientFactory.Create(options, Fitter), new ContextAssembler(Fitter, new FunctionsChat.Tests.Http.InMemoryArchive(), Options.Create(options)), new FunctionsChat.Tests.Http.InMemoryArchive(), new FunctionsChat.Tests.Http.InMemoryArchive(), TimeProvider.System, Options.Create(options), FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(Request, null, CancellationToken.None);

    async Task<ModelFailure> Failure(LlmOptions options, Func<HttpContext, Task> respond)
    {
        server.Respond = respond;
        var error = await Assert.ThrowsAsync<ModelCallException>(() => Call(options));
        Assert.Single(server.Requests); // one request per attempt: the SDK does not retry
        Assert.Equal(error.Failure, ModelFailure.Find([error.Message]));
        return error.Failure;
    }

    [Fact]
    public async Task Azure_OpenAI_reply_model_and_usage_reach_the_activity_result()
    {
        var reply = await Call(Azure());

        Assert.Equal(new ModelReply("A poem about durable execution.", "gpt-4o-mini-2024-07-18", new TokenUsage(57, 12), "stop"), reply);
        var seen = Assert.Single(server.Requests);
        Assert.Equal("/openai/v1/chat/completions", seen.Path);
        Assert.Equal("", seen.Query); // the v1 API takes no api-version, so no model is refused for an old one
        Assert.Equal("chat-deployment", seen.Body.GetProperty("model").GetString());
        Assert.Equal("test-azure-key", seen.Headers["api-key"]);
        Assert.False(seen.Headers.ContainsKey("authorization"));
    }

    [Fact]
    public async Task Azure_OpenAI_without_a_key_sends_an_Entra_token_for_Cognitive_Services()
    {
        // Bearer tokens are only sent over TLS, so this request goes to an https address and is answered in process.
        var options = Azure();
        options.Endpoint = new Uri("https://res.openai.azure.com/");
        options.ApiKey = null;
        var credential = new ScopeRecordingCredential();
        var handler = new AnsweringHandler();
        var client = ChatClientFactory.Create(options, Fitter, credential, new HttpClientPipelineTransport(new HttpClient(handler)));

        var reply = await new GenerateReply(client, new ContextAssembler(Fitter, new FunctionsChat.Tests.Http.InMemoryArchive(), Options.Create(options)), new FunctionsChat.Tests.Http.InMemoryArchive(), new FunctionsChat.Tests.Http.InMemoryArchive(), TimeProvider.System, Options.Create(options), FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(Request, null, CancellationToken.None);

        Assert.Equal("Hello from Azure.", reply.Text);
        var seen = Assert.Single(handler.Requests);
        Assert.Equal("https://res.openai.azure.com/openai/v1/chat/completions", seen.RequestUri!.ToString());
        Assert.Equal("Bearer entra-token", seen.Headers.Authorization!.ToString());
        Assert.False(seen.Headers.Contains("api-key"));
        Assert.Equal(["https://cognitiveservices.azure.com/.default"], credential.Scopes);
    }

    sealed class AnsweringHandler : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            // The answer streamed, as the model activity asks for it.
            const string body = """
                data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello from Azure."},"finish_reason":null}]}

                data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

                data: [DONE]


                """;
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent(body, System.Text.Encoding.UTF8, "text/event-stream") });
        }
    }

    [Fact]
    public async Task The_output_limit_is_sent_as_max_completion_tokens_which_reasoning_models_require()
    {
        var options = Azure();
        options.MaxOutputTokens = 300;

        await Call(options);

        var body = Assert.Single(server.Requests).Body;
        Assert.Equal(300, body.GetProperty("max_completion_tokens").GetInt32());
        Assert.False(body.TryGetProperty("max_tokens", out _));
    }

    [Theory]
    [InlineData("https://res.openai.azure.com", "https://res.openai.azure.com/openai/v1/")]
    [InlineData("https://res.openai.azure.com/", "https://res.openai.azure.com/openai/v1/")]
    [InlineData("https://res.openai.azure.com/openai/v1", "https://res.openai.azure.com/openai/v1/")]
    [InlineData("https://res.cognitiveservices.azure.com/openai/v1/", "https://res.cognitiveservices.azure.com/openai/v1/")]
    public void Either_the_resource_endpoint_or_its_v1_address_may_be_configured(string configured, string used) =>
        Assert.Equal(new Uri(used), ChatClientFactory.AzureV1Endpoint(new Uri(configured)));

    sealed class ScopeRecordingCredential : global::Azure.Core.TokenCredential
    {
        public List<string> Scopes { get; } = [];

        public override global::Azure.Core.AccessToken GetToken(global::Azure.Core.TokenRequestContext context, CancellationToken cancellationToken)
        {
            Scopes.AddRange(context.Scopes);
            return new("entra-token", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<global::Azure.Core.AccessToken> GetTokenAsync(global::Azure.Core.TokenRequestContext context, CancellationToken cancellationToken) =>
            new(GetToken(context, cancellationToken));
    }

    [Fact]
    public async Task The_request_body_holds_the_fitted_messages_in_order()
    {
        await Call(Azure());

        var messages = Assert.Single(server.Requests).Body.GetProperty("messages").EnumerateArray()
            .Select(m => (m.GetProperty("role").GetString(), m.GetProperty("content").ToString())).ToList();
        Assert.Equal([("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello!"), ("user", "Write a poem")], messages);
    }

    [Fact]
    public async Task OpenAI_compatible_endpoints_are_called_on_v1_with_a_bearer_key()
    {
        var reply = await Call(OpenAICompatible());

        Assert.Equal("A poem about durable execution.", reply.Text);
        var seen = Assert.Single(server.Requests);
        Assert.Equal("/v1/chat/completions", seen.Path);
        Assert.Equal("Bearer test-openai-key", seen.Headers["authorization"]);
        Assert.Equal("llama3.2", seen.Body.GetProperty("model").GetString());
    }

    [Fact]
    public async Task A_429_is_transient_and_carries_the_Retry_After_seconds()
    {
        var failure = await Failure(Azure(), c => LoopbackModelServer.Error(c, 429, "429", "Rate limit reached", ("Retry-After", "3")));

        Assert.Equal((ModelFailure.RateLimited, true, TimeSpan.FromSeconds(3)), (failure.Code, failure.IsTransient, failure.RetryAfter));
    }

    [Fact]
    public async Task A_429_with_retry_after_ms_carries_the_milliseconds()
    {
        var failure = await Failure(OpenAICompatible(), c => LoopbackModelServer.Error(c, 429, "rate_limit_exceeded", "slow down", ("retry-after-ms", "1500"), ("Retry-After", "2")));

        Assert.Equal(TimeSpan.FromMilliseconds(1500), failure.RetryAfter);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task Server_errors_are_transient(int status)
    {
        var failure = await Failure(Azure(), c => LoopbackModelServer.Error(c, status, "server_error", "The server had an error"));

        Assert.Equal((ModelFailure.ServerError, true), (failure.Code, failure.IsTransient));
    }

    [Fact]
    public async Task A_request_timeout_status_is_transient()
    {
        var failure = await Failure(Azure(), c => LoopbackModelServer.Error(c, 408, "timeout", "Request timed out"));

        Assert.Equal((ModelFailure.Timeout, true), (failure.Code, failure.IsTransient));
    }

    [Fact]
    public async Task A_server_that_hangs_past_the_request_timeout_is_a_transient_timeout()
    {
        var options = Azure();
        options.RequestTimeout = TimeSpan.FromMilliseconds(500);

        var failure = await Failure(options, async c => await Task.Delay(TimeSpan.FromSeconds(10), c.RequestAborted));

        Assert.Equal((ModelFailure.Timeout, true), (failure.Code, failure.IsTransient));
    }

    [Fact]
    public async Task A_content_filter_refusal_is_permanent()
    {
        var failure = await Failure(Azure(), c => LoopbackModelServer.Error(c, 400, "content_filter", "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."));

        Assert.Equal((ModelFailure.ContentFiltered, false), (failure.Code, failure.IsTransient));
    }

    [Fact]
    public async Task A_200_whose_answer_the_content_filter_withheld_is_a_permanent_content_filter_failure()
    {
        var failure = await Failure(Azure(), c => LoopbackModelServer.Ok(c, text: "", finishReason: "content_filter"));

        Assert.Equal((ModelFailure.ContentFiltered, false), (failure.Code, failure.IsTransient));
    }

    [Fact]
    public async Task An_answer_cut_at_the_output_limit_comes_back_with_finish_reason_length()
    {
        server.Respond = c => LoopbackModelServer.Ok(c, text: "Once upon a", finishReason: "length");

        var reply = await Call(Azure());

        Assert.Equal(("Once upon a", ModelReply.CutShort), (reply.Text, reply.FinishReason));
    }

    [Fact]
    public async Task The_providers_context_length_error_is_llm_context_too_long()
    {
        var failure = await Failure(OpenAICompatible(), c => LoopbackModelServer.Error(c, 400, "context_length_exceeded",
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens."));

        Assert.Equal((ModelFailure.ContextTooLong, false), (failure.Code, failure.IsTransient));
    }

    [Theory]
    [InlineData(400, ModelFailure.BadRequest)]
    [InlineData(401, ModelFailure.Unauthorized)]
    [InlineData(403, ModelFailure.Forbidden)]
    [InlineData(404, ModelFailure.NotFound)]
    public async Task Client_errors_are_permanent_with_their_own_code(int status, string code)
    {
        var failure = await Failure(OpenAICompatible(), c => LoopbackModelServer.Error(c, status, "error", "no"));

        Assert.Equal((code, false), (failure.Code, failure.IsTransient));
    }

    [Fact]
    public async Task A_refused_connection_is_a_transient_network_failure()
    {
        var options = Azure();
        await server.DisposeAsync();

        var error = await Assert.ThrowsAsync<ModelCallException>(() => Call(options));

        Assert.Equal((ModelFailure.Network, true), (error.Failure.Code, error.Failure.IsTransient));
        server = await LoopbackModelServer.StartAsync();
    }

    [Fact]
    public async Task A_stop_closes_the_model_request_and_no_chunk_is_appended_after_the_activity_reports()
    {
        var closed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Respond = context => LoopbackModelServer.Endless(context, closed);
        var http = new FunctionsChat.Tests.Http.HttpHarness();
        var session = FunctionsChat.Sessions.SessionEntityIds.For(FunctionsChat.Tests.Http.HttpHarness.Key("s1"));
        var state = SessionTransitions.Enqueue(ChatSessionState.Empty, new TurnRequest("s1", "t1", "Write a poem", FunctionsChat.Tests.Http.HttpHarness.Start), FunctionsChat.Tests.Http.HttpHarness.Start, SessionLimits.Default).State;
        http.Store[session] = state;
        var streams = new FunctionsChat.Tests.Http.InMemoryArchive();
        var options = Azure();
        var activity = new GenerateReply(ChatClientFactory.Create(options, Fitter), new ContextAssembler(Fitter, streams, Options.Create(options)), streams, streams, TimeProvider.System, Options.Create(options), FunctionsChat.Tests.Telemetry.TestTelemetry.Create());
        var request = new ReplyRequest("s1", "t1", [], "Write a poem")
        {
            SessionKey = session.Key,
            AcceptedAt = FunctionsChat.Tests.Http.HttpHarness.Start,
            Run = SessionQueries.RunOf(state, state.Active!.Turn.Sequence),
        };

        var running = activity.Run(request, http.Client.Object, CancellationToken.None);
        while (streams.StreamRows.Count < 3)
        {
            Assert.False(running.IsCompleted);
            await Task.Delay(20);
        }

        // The session asks the turn to stop (a cancel): the activity sees it at its next read of the session.
        http.Store[session] = SessionTransitions.Cancel(state, new TurnCancellation("t1"), FunctionsChat.Tests.Http.HttpHarness.Start, SessionLimits.Default).State;
        var reply = await running.WaitAsync(TimeSpan.FromSeconds(30));
        int appended = streams.StreamRows.Count;
        int wordsSent = await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(300);

        // The server saw its request closed long before its minute of words was done.
        Assert.InRange(wordsSent, 1, 1199);
        Assert.True(reply.Stopped);
        // The reply is what was appended, the last chunk marks the end, and nothing was appended after the report.
        Assert.Equal(appended, streams.StreamRows.Count);
        Assert.True(streams.StreamRows.Values.Last().Last);
        Assert.Equal(string.Concat(streams.StreamRows.Values.Select(c => c.Text)), await FunctionsChat.Archive.StoredTexts.ReadAsync(streams, session.Key, reply.Text, reply.TextRef, default));
        Assert.StartsWith("w0 w1 ", string.Concat(streams.StreamRows.Values.Select(c => c.Text)));
    }
}
