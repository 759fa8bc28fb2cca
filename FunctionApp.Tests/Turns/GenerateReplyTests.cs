using FunctionsChat.Tests.Llm;
using FunctionsChat.Domain;
using FunctionsChat.Llm;
using FunctionsChat.Turns;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Moq;

namespace FunctionsChat.Tests.Turns;

public class GenerateReplyTests
{
    static readonly ContextFitter Fitter = new(ContextFitter.CreateTokenizer());

    static readonly ReplyRequest Request = new("session123", "t3", [new("user", "first"), new("assistant", "one"), new("user", "second"), new("assistant", "two")], "third");

    static (GenerateReply Activity, Mock<IChatClient> Chat, List<ChatMessage> Sent) Activity(LlmOptions? options = null, FunctionsChat.Archive.ITranscriptArchive? archive = null)
    {
        var sent = new List<ChatMessage>();
        var chat = new Mock<IChatClient>(MockBehavior.Strict).StreamingItsResponses();
        chat.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Callback<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken>((m, _, _) => sent.AddRange(m))
            .ReturnsAsync(new ChatResponse(new ChatMessage(ChatRole.Assistant, "the answer"))
            {
                ModelId = "gpt-4o-mini-2024-07-18",
                FinishReason = ChatFinishReason.Stop,
                Usage = new UsageDetails { InputTokenCount = 120, OutputTokenCount = 30 },
            });
        var llm = options ?? new LlmOptions { SystemPrompt = "Be brief." };
        var store = archive ?? new FunctionsChat.Tests.Http.InMemoryArchive();
        var streams = store as FunctionsChat.Archive.ITurnStreams ?? new FunctionsChat.Tests.Http.InMemoryArchive();
        return (new GenerateReply(chat.Object, new ContextAssembler(Fitter, store, Options.Create(llm)), store, streams, TimeProvider.System, Options.Create(llm), FunctionsChat.Tests.Telemetry.TestTelemetry.Create()), chat, sent);
    }

    /// <summary>
    /// A running turn of session123, as the session started it, its request as the orchestration gives it, and a client
    /// over that state recording the signals the activity sends; the caller's token budget is on.
    /// </summary>
    static (ReplyRequest Request, FunctionsChat.Tests.Http.HttpHarness Http) Running()
    {
        var http = new FunctionsChat.Tests.Http.HttpHarness();
        var limits = SessionLimits.Default;
        var started = SessionTransitions.Enqueue(ChatSessionState.Empty, TurnRequest.For("session123", "t1", "third", http.Clock.GetUtcNow()), http.Clock.GetUtcNow(), limits);
        http.State = started.State;
        return (ReplyRequest.For(ChatTurnInput.For(FunctionsChat.Tests.Http.HttpHarness.Key(), started.Start!, new FunctionsChat.Sessions.SessionOptions().Retry)), http);
    }

    static GenerateReply Metered(IChatClient chat, FunctionsChat.Tests.Http.HttpHarness http)
    {
        var llm = new LlmOptions { SystemPrompt = "Be brief." };
        var store = new FunctionsChat.Tests.Http.InMemoryArchive();
        return new GenerateReply(chat, new ContextAssembler(Fitter, store, Options.Create(llm)), store, store, TimeProvider.System, Options.Create(llm), FunctionsChat.Tests.Telemetry.TestTelemetry.Create(),
            quota: Options.Create(new FunctionsChat.Quota.QuotaOptions { TokensPerPeriod = 1_000_000 }), fitter: Fitter);
    }

    static List<TokenCharge> Charges(FunctionsChat.Tests.Http.HttpHarness http) =>
        [.. http.Signals.Where(s => s.Operation == nameof(FunctionsChat.Quota.CallerQuota.Used)).Select(s => (TokenCharge)s.Input!)];

    [Fact]
    public async Task The_callers_budget_is_charged_the_prompts_estimate_as_the_model_is_called_then_what_it_reported_under_the_same_call()
    {
        var (request, http) = Running();
        var (_, chat, sent) = Activity();

        var reply = await Metered(chat.Object, http).Run(request, http.Client.Object, CancellationToken.None);

        var charges = Charges(http);
        Assert.Equal(2, charges.Count);
        var (estimate, reported) = (charges.Single(c => c.Estimate), charges.Single(c => !c.Estimate));
        Assert.Equal(Fitter.Count(sent), estimate.Tokens);
        Assert.Equal((150L, estimate.Call), (reported.Tokens, reported.Call));
        Assert.Matches("^[0-9a-f]{32}$", estimate.Call);
        Assert.All(http.Signals.Where(s => s.Operation == nameof(FunctionsChat.Quota.CallerQuota.Used)), s => Assert.Equal(FunctionsChat.Quota.CallerQuota.For(SessionKeys.OwnerOf(FunctionsChat.Tests.Http.HttpHarness.Key())), s.Id));
        Assert.Equal(150, reply.Usage.InputTokens + reply.Usage.OutputTokens);
    }

    [Fact]
    public async Task A_call_the_session_stops_is_charged_its_estimate_and_the_tokenizers_count_of_what_it_had_said()
    {
        var (request, http) = Running();
        var said = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var chat = new Mock<IChatClient>(MockBehavior.Strict);
        chat.Setup(c => c.GetStreamingResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Returns((IEnumerable<ChatMessage> _, ChatOptions? _, CancellationToken cancellation) => Unfinished(said, cancellation));

        var running = Metered(chat.Object, http).Run(request, http.Client.Object, CancellationToken.None);
        await said.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // The session stops the turn; the activity sees it at its next read of the session.
        http.State = SessionTransitions.Cancel(http.State!, new TurnCancellation("t1"), http.Clock.GetUtcNow(), SessionLimits.Default).State;
        var reply = await running.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(reply.Stopped);
        var charges = Charges(http);
        var estimate = charges.Single(c => c.Estimate);
        var stopped = charges.Single(c => !c.Estimate);
        Assert.Equal((estimate.Call, estimate.Tokens + Fitter.Count("assistant", "Once upon a time")), (stopped.Call, stopped.Tokens));
    }

    /// <summary>A model that says a few words and then goes on until it is stopped.</summary>
    static async IAsyncEnumerable<ChatResponseUpdate> Unfinished(TaskCompletionSource said, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        yield return new ChatResponseUpdate(ChatRole.Assistant, "Once upon a time");
        said.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellation);
    }

    [Fact]
    public async Task A_call_whose_model_reported_no_usage_keeps_its_estimate()
    {
        var (request, http) = Running();
        var chat = new Mock<IChatClient>(MockBehavior.Strict).StreamingItsResponses();
        chat.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ChatResponse(new ChatMessage(ChatRole.Assistant, "the answer")) { FinishReason = ChatFinishReason.Stop });

        await Metered(chat.Object, http).Run(request, http.Client.Object, CancellationToken.None);

        var charge = Assert.Single(Charges(http));
        Assert.True(charge.Estimate);
    }

    [Fact]
    public async Task The_model_is_sent_the_system_prompt_first_then_the_history_in_order_then_the_new_message()
    {
        var (activity, _, sent) = Activity();

        await activity.Run(Request, null, CancellationToken.None);

        Assert.Equal(
            [("system", "Be brief."), ("user", "first"), ("assistant", "one"), ("user", "second"), ("assistant", "two"), ("user", "third")],
            sent.Select(m => (m.Role.Value, m.Text)));
    }

    [Fact]
    public async Task After_300_turns_of_3_KB_replies_the_prompt_holds_exactly_the_newest_whole_turns_that_fit_archived_ones_included()
    {
        // 290 turns archived, 10 in the working set; every reply about 3 KB of distinct text.
        static string Reply(int n) => string.Join(' ', Enumerable.Range(0, 600).Select(w => $"w{n}x{w}"))[..3000];
        var archive = new FunctionsChat.Tests.Http.InMemoryArchive();
        var at = DateTimeOffset.UnixEpoch;
        await archive.WriteAsync("anonymous/s1", [.. Enumerable.Range(1, 290).Select(n =>
            new TranscriptTurn($"t{n}", n, TurnStatus.Completed, $"question {n}", Fingerprint.Of($"question {n}"), at, at) { Answer = Reply(n) })], CancellationToken.None);
        var working = Enumerable.Range(291, 10).SelectMany(n => new ConversationMessage[] { new("user", $"question {n}"), new("assistant", Reply(n)) }).ToArray();
        var request = new ReplyRequest("s1", "t301", working, "question 301") { SessionKey = "anonymous/s1", ArchivedThrough = 290 };
        var (activity, _, sent) = Activity(new LlmOptions { SystemPrompt = "Be brief.", ContextTokenBudget = 100_000, Summaries = false }, archive);

        await activity.Run(request, null, CancellationToken.None);

        // Expected, counted independently: the newest turns whose tokens, with the system prompt and the new message, fit.
        int used = Fitter.Count([new(ChatRole.System, "Be brief."), new(ChatRole.User, "question 301")]);
        int oldest = 301;
        while (oldest > 1 && used + Fitter.Count("user", $"question {oldest - 1}") + Fitter.Count("assistant", Reply(oldest - 1)) <= 100_000)
        {
            oldest--;
            used += Fitter.Count("user", $"question {oldest}") + Fitter.Count("assistant", Reply(oldest));
        }

        var expected = new List<(string, string)> { ("system", "Be brief.") };
        for (int n = oldest; n <= 300; n++)
        {
            expected.Add(("user", $"question {n}"));
            expected.Add(("assistant", Reply(n)));
        }

        expected.Add(("user", "question 301"));
        Assert.InRange(oldest, 2, 280); // archived turns are in it, and not all of them fit
        Assert.Equal(expected, sent.Select(m => (m.Role.Value, m.Text)));
        Assert.True(archive.Reads.Count <= 1 + (290 - oldest) / ContextAssembler.PageSize + 1, $"{archive.Reads.Count} archive reads");
    }

    [Fact]
    public async Task When_the_archive_cannot_be_read_the_turn_is_answered_from_the_working_set()
    {
        var archive = new Mock<FunctionsChat.Archive.ITranscriptArchive>(MockBehavior.Strict);
        archive.Setup(a => a.ReadBeforeAsync("anonymous/s1", 3, ContextAssembler.PageSize, It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("table unavailable"));
        archive.Setup(a => a.WriteTextAsync("anonymous/s1", It.IsAny<string>(), "the answer", It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        var (activity, _, sent) = Activity(archive: archive.Object);

        await activity.Run(Request with { SessionKey = "anonymous/s1", ArchivedThrough = 2 }, null, CancellationToken.None);

        Assert.Equal(6, sent.Count);
    }

    [Fact]
    public async Task The_reply_text_model_and_token_usage_are_returned()
    {
        var (activity, _, _) = Activity();

        var reply = await activity.Run(Request, null, CancellationToken.None);

        Assert.Equal(new ModelReply("the answer", "gpt-4o-mini-2024-07-18", new TokenUsage(120, 30), "stop"), reply);
    }

    [Fact]
    public async Task The_answer_is_stored_whole_and_a_long_one_leaves_by_reference_alone_within_the_payload_bound()
    {
        var archive = new FunctionsChat.Tests.Http.InMemoryArchive();
        var (activity, chat, _) = Activity(archive: archive);
        string longAnswer = new('<', 30_000);
        chat.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ChatResponse(new ChatMessage(ChatRole.Assistant, longAnswer)) { ModelId = new string('&', 2_000) });
        var request = Request with { SessionKey = "anonymous/s1", AcceptedAt = FunctionsChat.Tests.Domain.Turns.T0 };

        var reply = await activity.Run(request, null, CancellationToken.None);

        string key = TextKeys.Answer(FunctionsChat.Tests.Domain.Turns.T0, Fingerprint.Of(longAnswer));
        Assert.Equal(("", key), (reply.Text, reply.TextRef));
        Assert.Equal(longAnswer, archive.Texts[("anonymous/s1", key)]);
        Assert.True(PayloadBudget.Bytes(reply) <= 2_000, $"{PayloadBudget.Bytes(reply)} bytes");

        var (shortly, _, _) = Activity(archive: archive);
        var short_ = await shortly.Run(request, null, CancellationToken.None);
        Assert.Equal(("the answer", "the answer"), (short_.Text, archive.Texts[("anonymous/s1", short_.TextRef!)]));
    }

    [Fact]
    public async Task The_answer_streams_into_the_turns_stream_in_batches_and_each_attempt_writes_its_own_which_the_reply_names()
    {
        var archive = new FunctionsChat.Tests.Http.InMemoryArchive();
        var (activity, chat, _) = Activity(archive: archive);
        string[] pieces = [.. Enumerable.Range(0, 30).Select(i => $"piece {i} <&é> " + new string('x', 90))];
        chat.Setup(c => c.GetStreamingResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Returns(() => pieces.Select(p => new ChatResponseUpdate(ChatRole.Assistant, p) { ModelId = "gpt-test" }).ToAsyncEnumerable());
        var request = Request with { SessionKey = "anonymous/s1", AcceptedAt = FunctionsChat.Tests.Domain.Turns.T0 };
        string stream = StreamKeys.Of(request.AcceptedAt, request.TurnId);

        var first = await activity.Run(request, null, CancellationToken.None);
        var second = await activity.Run(request, null, CancellationToken.None);

        var chunks = await archive.ReadAsync("anonymous/s1", stream, null, CancellationToken.None);
        Assert.Equal([first.Attempt, second.Attempt], chunks.Select(c => c.Attempt).Distinct());
        foreach (var reply in new[] { first, second })
        {
            var mine = chunks.Where(c => c.Attempt == reply.Attempt).ToList();
            Assert.Equal(string.Concat(pieces), string.Concat(mine.Select(c => c.Text)));
            Assert.Equal(archive.Texts[("anonymous/s1", reply.TextRef!)], string.Concat(mine.Select(c => c.Text)));
            Assert.Equal(Enumerable.Range(0, mine.Count), mine.Select(c => c.Seq));
            Assert.Equal([.. Enumerable.Repeat(false, mine.Count - 1), true], mine.Select(c => c.Last));
            Assert.InRange(mine.Count, 3, 5); // about 3,500 characters in batches of 1,000, not 30 writes
        }
    }

    [Fact]
    public async Task A_message_whose_stored_words_are_gone_fails_the_turn_instead_of_sending_an_empty_message()
    {
        var (activity, chat, _) = Activity();
        var request = Request with { SessionKey = "anonymous/s1", Message = "", MessageRef = TextKeys.Message(FunctionsChat.Tests.Domain.Turns.T0, Fingerprint.Of("gone")) };

        var error = await Assert.ThrowsAsync<ModelCallException>(() => activity.Run(request, null, CancellationToken.None));

        Assert.Equal(ModelFailure.TextMissing, error.Failure.Code);
        chat.Verify(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task A_network_failure_leaves_the_activity_as_a_transient_model_failure()
    {
        var (activity, chat, _) = Activity();
        chat.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new HttpRequestException("Connection refused"));

        var error = await Assert.ThrowsAsync<ModelCallException>(() => activity.Run(Request, null, CancellationToken.None));

        Assert.Equal(ModelFailure.Network, error.Failure.Code);
        Assert.True(error.Failure.IsTransient);
        Assert.StartsWith("[llm.network]", error.Message);
    }

    [Fact]
    public async Task A_message_that_alone_exceeds_the_token_budget_fails_permanently_without_calling_the_model()
    {
        var (activity, chat, _) = Activity(new LlmOptions { SystemPrompt = "Be brief.", ContextTokenBudget = 64 });

        var error = await Assert.ThrowsAsync<ModelCallException>(() => activity.Run(Request with { Message = string.Join(' ', Enumerable.Repeat("word", 200)) }, null, CancellationToken.None));

        Assert.Equal(ModelFailure.ContextTooLong, error.Failure.Code);
        Assert.False(error.Failure.IsTransient);
        chat.Verify(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}
