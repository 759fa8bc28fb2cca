using FunctionsChat.Domain;
using FunctionsChat.Llm;
using FunctionsChat.Tests.Http;
using FunctionsChat.Turns;
using Microsoft.DurableTask;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Moq;

namespace FunctionsChat.Tests.Turns;

/// <summary>Summaries of the turns that no longer fit: written by the model, incremental, exact in range, shown first.</summary>
public class SummaryTests
{
    const string Key = "anonymous/s1";
    static readonly ContextFitter Fitter = new(ContextFitter.CreateTokenizer());
    static readonly DateTimeOffset At = new(2026, 6, 1, 9, 0, 0, TimeSpan.Zero);

    static string Answer(int n) => string.Join(' ', Enumerable.Range(0, 600).Select(w => $"w{n}x{w}"))[..3000];

    static TranscriptTurn Turn(int n) =>
        new($"t{n}", n, TurnStatus.Completed, $"question {n}", Fingerprint.Of($"question {n}"), At, At) { Answer = Answer(n) };

    static async Task<InMemoryArchive> Archived(int turns)
    {
        var archive = new InMemoryArchive();
        await archive.WriteAsync(Key, [.. Enumerable.Range(1, turns).Select(Turn)], CancellationToken.None);
        return archive;
    }

    static ReplyRequest Request(int archived, long summaryThrough = 0) =>
        new("s1", $"t{archived + 1}", [], $"question {archived + 1}") { SessionKey = Key, ArchivedThrough = archived, SummaryThrough = summaryThrough };

    static LlmOptions Llm() => new() { SystemPrompt = "Be brief.", ContextTokenBudget = 100_000 };

    /// <summary>A model that answers a summarising request with "S1", "S2", ... and records what it was sent.</summary>
    static (IChatClient Chat, List<List<ChatMessage>> Sent) Summariser()
    {
        var sent = new List<List<ChatMessage>>();
        var chat = new Mock<IChatClient>(MockBehavior.Strict);
        chat.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Returns<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken>((m, _, _) =>
            {
                sent.Add([.. m]);
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"S{sent.Count}")) { FinishReason = ChatFinishReason.Stop });
            });
        return (chat.Object, sent);
    }

    /// <summary>A summariser that reports its usage as a model does: 700 tokens in, 40 out.</summary>
    static IChatClient Metered()
    {
        var chat = new Mock<IChatClient>(MockBehavior.Strict);
        chat.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ChatResponse(new ChatMessage(ChatRole.Assistant, "S")) { FinishReason = ChatFinishReason.Stop, Usage = new UsageDetails { InputTokenCount = 700, OutputTokenCount = 40 } });
        return chat.Object;
    }

    static SummarizeConversation Activity(IChatClient chat, InMemoryArchive archive, LlmOptions llm) =>
        new(chat, new ContextAssembler(Fitter, archive, Options.Create(llm)), Fitter, archive, archive, Options.Create(llm), TimeProvider.System);

    static List<long> TurnsIn(IEnumerable<ChatMessage> request) =>
        [.. request.Last().Text.Split('\n').Where(l => l.StartsWith("User: question ", StringComparison.Ordinal)).Select(l => long.Parse(l["User: question ".Length..], System.Globalization.CultureInfo.InvariantCulture))];

    [Fact]
    public async Task Turns_that_no_longer_fit_are_summarised_exactly_in_order_one_model_call_per_turn_until_caught_up()
    {
        var archive = await Archived(300);
        var (chat, sent) = Summariser();
        var llm = Llm();
        var activity = Activity(chat, archive, llm);
        var (_, before) = await new ContextAssembler(Fitter, archive, Options.Create(llm)).AssembleAsync("Be brief.", Request(300), 100_000, CancellationToken.None);

        // The summary step of successive turns (the archive unchanged): each folds one context's worth and writes.
        var outcomes = new List<SummaryOutcome>();
        long through = 0;
        for (int turn = 0; turn < 10; turn++)
        {
            var outcome = await activity.Run(Request(300, through), null, CancellationToken.None);
            outcomes.Add(outcome);
            if (!outcome.Written)
            {
                break;
            }

            through = outcome.Through;
        }

        Assert.InRange(before.LeftOutThrough, 150, 290);
        Assert.True(outcomes.Count(o => o.Written) > 1, "a backlog of a whole context takes more than one turn");
        Assert.Equal(outcomes.Count(o => o.Written), sent.Count); // one model call per summary step
        Assert.All(sent, request => Assert.Equal(SummarizeConversation.Instructions, request[0].Text));
        Assert.Equal(Enumerable.Range(1, (int)through).Select(i => (long)i), sent.SelectMany(TurnsIn));
        for (int i = 1; i < sent.Count; i++)
        {
            Assert.Contains($"{SummarizeConversation.SoFar}\nS{i}", sent[i][^1].Text);
        }

        Assert.Equal((through, $"S{sent.Count}"), (archive.Summaries[Key].Through, archive.Summaries[Key].Text));
        var (_, after) = await new ContextAssembler(Fitter, archive, Options.Create(llm)).AssembleAsync("Be brief.", Request(300, through), 100_000, CancellationToken.None);
        Assert.True(after.LeftOutThrough - through < llm.SummaryTrigger, "caught up: what is left out is within the trigger");
    }

    [Fact]
    public async Task The_summary_steps_model_call_reports_its_tokens_so_the_caller_is_charged_for_them_on_either_path()
    {
        var archive = new InMemoryArchive();
        await archive.WriteAsync(Key, [.. Enumerable.Range(1, 300).Select(Turn)], CancellationToken.None);

        var alone = await Activity(Metered(), archive, Llm()).Run(Request(300), null, CancellationToken.None);
        var (first, _) = await Activity(Metered(), archive, Llm()).BeforeAnswerAsync(Request(300), CancellationToken.None, CancellationToken.None);

        Assert.Equal((true, 740L), (alone.Written, alone.Tokens));
        Assert.Equal(740, first.SummaryTokens);
    }

    [Fact]
    public async Task A_turn_too_large_for_the_summariser_alone_is_clipped_for_it_and_the_transcript_keeps_it_whole()
    {
        var archive = new InMemoryArchive();
        string huge = string.Join(' ', Enumerable.Range(0, 30_000).Select(w => $"big{w}"));
        await archive.WriteAsync(Key, [Turn(1) with { Answer = huge }, .. Enumerable.Range(2, 60).Select(Turn)], CancellationToken.None);
        var (chat, sent) = Summariser();
        var llm = new LlmOptions { SystemPrompt = "Be brief.", ContextTokenBudget = 60_000 };

        var outcome = await Activity(chat, archive, llm).Run(Request(61), null, CancellationToken.None);

        Assert.True(outcome.Written);
        Assert.Equal(1, TurnsIn(sent[0]).First());
        Assert.Contains("[cut]", sent[0][^1].Text);
        Assert.True(Fitter.Count(sent[0]) <= 60_000);
        Assert.Equal(huge, archive.Sessions[Key][1].Answer);
    }

    [Fact]
    public async Task A_summary_of_another_life_of_the_session_is_never_shown()
    {
        var archive = await Archived(300);
        archive.Summaries[Key] = new ConversationSummary(250, "what the deleted life said", At) { Generation = 0 };
        var assembler = new ContextAssembler(Fitter, archive, Options.Create(Llm()));

        var (prompt, report) = await assembler.AssembleAsync("Be brief.", Request(300, summaryThrough: 250) with { Generation = 1 }, 100_000, CancellationToken.None);

        Assert.Equal(0, report.SummaryThrough);
        Assert.DoesNotContain(prompt, m => m.Text.Contains("deleted life", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_summary_that_would_not_fit_beside_a_large_message_is_left_out_rather_than_failing_the_turn()
    {
        var archive = await Archived(20);
        archive.Summaries[Key] = new ConversationSummary(10, string.Join(' ', Enumerable.Range(0, 4_000).Select(w => $"s{w}")), At);
        var assembler = new ContextAssembler(Fitter, archive, Options.Create(Llm()));
        string message = string.Join(' ', Enumerable.Range(0, 3_000).Select(w => $"m{w}"));
        int budget = Fitter.Count([new(ChatRole.System, "Be brief."), new(ChatRole.User, message)]) + 100;

        var (prompt, report) = await assembler.AssembleAsync("Be brief.", Request(20, 10) with { Message = message }, budget, CancellationToken.None);

        Assert.Equal(0, report.SummaryThrough);
        Assert.Equal(2, prompt.Count);
    }

    [Fact]
    public async Task Failed_and_cancelled_archived_turns_do_not_make_a_conversation_that_fits_look_full()
    {
        var archive = new InMemoryArchive();
        var turns = Enumerable.Range(1, 20).Select(n => n == 15 ? Turn(n) with { Status = TurnStatus.Cancelled, Answer = null } : Turn(n) with { Answer = "short" }).ToArray();
        await archive.WriteAsync(Key, turns, CancellationToken.None);
        archive.Summaries[Key] = new ConversationSummary(10, "turns 1 to 10", At);
        var assembler = new ContextAssembler(Fitter, archive, Options.Create(Llm()));

        var (prompt, report) = await assembler.AssembleAsync("Be brief.", Request(20, 10), 100_000, CancellationToken.None);

        Assert.Equal((10, 0), (report.SummaryThrough, report.LeftOutThrough));
        Assert.Equal(9, report.ArchivedTurns); // 11..20 but the cancelled 15
    }

    [Fact]
    public async Task A_summary_is_brought_up_to_date_from_itself_and_only_the_turns_newly_left_out()
    {
        var archive = await Archived(400);
        archive.Summaries[Key] = new ConversationSummary(200, "what happened in turns 1 to 200", At);
        var (chat, sent) = Summariser();
        var llm = Llm();

        var outcome = await Activity(chat, archive, llm).Run(Request(400, summaryThrough: 200), null, CancellationToken.None);

        Assert.Contains($"{SummarizeConversation.SoFar}\nwhat happened in turns 1 to 200", sent[0][^1].Text);
        Assert.Equal(Enumerable.Range(201, (int)outcome.Through - 200).Select(i => (long)i), sent.SelectMany(TurnsIn));
        Assert.True(outcome.Written);
        Assert.Equal(outcome.Through, archive.Summaries[Key].Through);
    }

    [Fact]
    public async Task Fewer_newly_left_out_turns_than_the_trigger_leave_the_summary_as_it_is_and_call_no_model()
    {
        var archive = await Archived(300);
        var (chat, sent) = Summariser();
        var llm = Llm();
        var (_, report) = await new ContextAssembler(Fitter, archive, Options.Create(llm)).AssembleAsync("Be brief.", Request(300), 100_000, CancellationToken.None);
        archive.Summaries[Key] = new ConversationSummary(report.LeftOutThrough - 3, "older", At);

        var outcome = await Activity(chat, archive, llm).Run(Request(300, summaryThrough: report.LeftOutThrough - 3), null, CancellationToken.None);

        Assert.Equal(new SummaryOutcome(report.LeftOutThrough - 3, false), outcome);
        Assert.Empty(sent);
    }

    [Fact]
    public async Task The_prompt_shows_the_summary_right_after_the_system_prompt_then_the_newest_turns_after_it_that_fit()
    {
        var archive = await Archived(300);
        archive.Summaries[Key] = new ConversationSummary(250, "what happened in turns 1 to 250", At);
        var assembler = new ContextAssembler(Fitter, archive, Options.Create(Llm()));

        var (prompt, report) = await assembler.AssembleAsync("Be brief.", Request(300, summaryThrough: 250), 100_000, CancellationToken.None);

        Assert.Equal(("system", "Be brief."), (prompt[0].Role.Value, prompt[0].Text));
        Assert.Equal(ContextAssembler.SummaryMessage(archive.Summaries[Key]), prompt[1].Text);
        var shown = prompt.Skip(2).Where(m => m.Role == ChatRole.User).Select(m => m.Text).ToList();
        Assert.Equal(Enumerable.Range(251, 51).Select(i => $"question {i}"), shown); // 251..300, then the new message
        Assert.Equal((250, 0), (report.SummaryThrough, report.LeftOutThrough));
    }

    [Fact]
    public async Task The_offline_model_writes_a_deterministic_summary_that_keeps_the_summary_so_far()
    {
        var offline = new OfflineChatClient(Fitter);
        var request = $"{SummarizeConversation.SoFar}\n(offline summary)\n- the user said: hello\n\nTurns 2 to 3:\nUser: question 2\nAssistant: a\nUser: question 3\nAssistant: b\n";

        var first = await offline.GetResponseAsync([new(ChatRole.System, SummarizeConversation.Instructions), new(ChatRole.User, request)]);
        var again = await offline.GetResponseAsync([new(ChatRole.System, SummarizeConversation.Instructions), new(ChatRole.User, request)]);

        Assert.Equal("(offline summary)\n- the user said: hello\n- the user said: question 2\n- the user said: question 3", first.Text);
        Assert.Equal(first.Text, again.Text);
    }

    [Fact]
    public async Task A_summary_step_that_fails_for_good_still_answers_the_turn_and_marks_it_with_a_warning()
    {
        var turn = new TurnHarness();
        turn.Context.Setup(c => c.GetInput<ChatTurnInput>()).Returns(TurnHarness.Input with { ArchivedThrough = 40, SummaryThrough = 10 });
        turn.Context.Setup(c => c.CallActivityAsync<SummaryOutcome>(It.Is<TaskName>(n => n.Name == "SummarizeConversation"), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ThrowsAsync(TurnHarness.Failure("[llm.server_error] The server had an error"));
        turn.Context.Setup(c => c.CallActivityAsync<ModelReply>(It.Is<TaskName>(n => n.Name == "GenerateReply"), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new ModelReply("A poem.", "m", new TokenUsage(1, 1), "stop"));

        await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        var completion = (TurnCompletion)Assert.Single(turn.Calls).Input!;
        Assert.Equal(("A poem.", "summary.failed: llm.server_error", 10L), (completion.Answer, completion.Warning, completion.SummaryThrough));
        turn.Context.Verify(c => c.CallActivityAsync<ModelReply>(
            It.Is<TaskName>(n => n.Name == "GenerateReply"), It.Is<ReplyRequest>(r => r.SummaryThrough == 10 && r.ArchivedThrough == 40), It.IsAny<TaskOptions?>()), Times.Once);
    }

    [Fact]
    public async Task A_written_summary_reaches_the_model_call_and_the_session()
    {
        var turn = new TurnHarness();
        turn.Context.Setup(c => c.GetInput<ChatTurnInput>()).Returns(TurnHarness.Input with { ArchivedThrough = 40, SummaryThrough = 0 });
        turn.Context.Setup(c => c.CallActivityAsync<SummaryOutcome>(It.Is<TaskName>(n => n.Name == "SummarizeConversation"), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new SummaryOutcome(30, true));
        turn.Context.Setup(c => c.CallActivityAsync<ModelReply>(It.Is<TaskName>(n => n.Name == "GenerateReply"), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new ModelReply("A poem.", "m", new TokenUsage(1, 1), "stop"));

        await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        var completion = (TurnCompletion)Assert.Single(turn.Calls).Input!;
        Assert.Equal((30L, null), (completion.SummaryThrough, completion.Warning));
        turn.Context.Verify(c => c.CallActivityAsync<ModelReply>(It.IsAny<TaskName>(), It.Is<ReplyRequest>(r => r.SummaryThrough == 30), It.IsAny<TaskOptions?>()), Times.Once);
    }

    [Fact]
    public async Task Inside_the_model_activity_the_summary_step_writes_its_summary_or_on_failure_leaves_a_warning_and_the_summary_it_had()
    {
        var archive = await Archived(300);
        var (chat, _) = Summariser();
        var failing = new Mock<IChatClient>();
        failing.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ModelCallException(new ModelFailure(ModelFailure.ServerError, "The server had an error")));

        var (written, writtenContext) = await Activity(chat, archive, Llm()).BeforeAnswerAsync(Request(300), CancellationToken.None, CancellationToken.None);
        var (failed, failedContext) = await Activity(failing.Object, archive, Llm()).BeforeAnswerAsync(Request(300, 7), CancellationToken.None, CancellationToken.None);
        // Caught up (a long backlog takes a few turns), the next step has nothing due.
        var caughtUp = Request(300, written.SummaryThrough!.Value);
        var (nothingDue, assembled) = await Activity(chat, archive, Llm()).BeforeAnswerAsync(caughtUp, CancellationToken.None, CancellationToken.None);
        for (int turn = 0; turn < 10 && assembled is null; turn++)
        {
            caughtUp = Request(300, nothingDue.SummaryThrough!.Value);
            (nothingDue, assembled) = await Activity(chat, archive, Llm()).BeforeAnswerAsync(caughtUp, CancellationToken.None, CancellationToken.None);
        }

        Assert.True(written.SummaryThrough > 0);
        Assert.Null(written.Warning);
        Assert.Equal((7L, "summary.failed: llm.server_error"), (failed.SummaryThrough, failed.Warning));
        // A summary written, or a step that failed, leaves the answer to assemble its prompt; one with nothing due hands
        // over the prompt it assembled, exactly as the answer would assemble it.
        Assert.Equal((null, null), (writtenContext, failedContext));
        var (prompt, _) = await new ContextAssembler(Fitter, archive, Options.Create(Llm())).AssembleAsync("Be brief.", caughtUp, 100_000, CancellationToken.None);
        Assert.Equal(caughtUp.SummaryThrough, nothingDue.SummaryThrough);
        Assert.Equal(prompt.Select(m => (m.Role, m.Text)), assembled!.Prompt.Select(m => (m.Role, m.Text)));
    }

    [Fact]
    public async Task A_turn_started_with_its_summary_in_the_model_call_schedules_no_summary_activity_and_reports_the_replys_summary()
    {
        var turn = new TurnHarness();
        turn.Context.Setup(c => c.GetInput<ChatTurnInput>()).Returns(TurnHarness.Input with { ArchivedThrough = 40, SummaryThrough = 10, SummaryInModelCall = true });
        turn.Context.Setup(c => c.CallActivityAsync<ModelReply>(It.Is<TaskName>(n => n.Name == "GenerateReply"), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new ModelReply("A poem.", "m", new TokenUsage(1, 1), "stop") { SummaryThrough = 30, Warning = null });

        await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        var completion = (TurnCompletion)Assert.Single(turn.Calls).Input!;
        Assert.Equal((30L, null), (completion.SummaryThrough, completion.Warning));
        turn.Context.Verify(c => c.CallActivityAsync<ModelReply>(It.IsAny<TaskName>(), It.Is<ReplyRequest>(r => r.SummarizeFirst && r.SummaryThrough == 10), It.IsAny<TaskOptions?>()), Times.Once);
        turn.Context.Verify(c => c.CallActivityAsync<SummaryOutcome>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()), Times.Never);
    }

    [Fact]
    public void The_session_remembers_how_far_its_summary_reaches_and_the_turn_keeps_its_warning()
    {
        var limits = SessionLimits.Default;
        var state = SessionTransitions.Enqueue(ChatSessionState.Empty, new TurnRequest("s1", "t1", "hi", At), At, limits).State;

        var done = SessionTransitions.Complete(state, new TurnCompletion("t1", "a", "m", new TokenUsage(1, 1), At) { Run = "0.1", SummaryThrough = 30, Warning = "summary.failed: llm.timeout" }, At, limits).State;

        Assert.Equal(30, done.SummaryThrough);
        Assert.Equal("summary.failed: llm.timeout", Assert.Single(done.Turns).Warning);
    }
    /// <summary>
    /// 300 archived turns; turn 201 edited as 301, whose line goes on to 400 (each following the one before it), so
    /// the line of 400 is 1..200 then 301..400, and 201..300 are another branch's.
    /// </summary>
    static async Task<InMemoryArchive> Branched()
    {
        var archive = new InMemoryArchive();
        var turns = Enumerable.Range(1, 400).Select(n => n <= 300 ? Turn(n) : Turn(n) with { Parent = n == 301 ? 200 : n - 1, Branch = 301 });
        await archive.WriteAsync(Key, [.. turns], CancellationToken.None);
        return archive;
    }

    [Fact]
    public async Task The_prompt_of_a_branched_conversation_is_its_line_alone_read_from_the_archive_by_parent()
    {
        var archive = await Branched();
        var llm = Llm();
        llm.Summaries = false;
        var assembler = new ContextAssembler(Fitter, archive, Options.Create(llm));

        var (prompt, report) = await assembler.AssembleAsync("Be brief.", Request(400) with { ArchivedFrom = 400 }, 1_000_000, CancellationToken.None);

        var asked = prompt.Where(m => m.Role == ChatRole.User).Select(m => m.Text).SkipLast(1).Select(t => long.Parse(t["question ".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal([.. Enumerable.Range(1, 200).Select(i => (long)i), .. Enumerable.Range(301, 100).Select(i => (long)i)], asked);
        Assert.Equal(300, report.ArchivedTurns);
    }

    [Fact]
    public async Task A_summary_of_another_branchs_turns_is_not_shown_and_the_line_gets_a_summary_of_its_own()
    {
        var archive = await Branched();
        archive.Summaries[Key] = new ConversationSummary(250, "turns 1 to 250 of the first branch", At);
        var (chat, sent) = Summariser();

        var (_, report) = await new ContextAssembler(Fitter, archive, Options.Create(Llm())).AssembleAsync("Be brief.", Request(400, 250) with { ArchivedFrom = 400 }, Llm().ContextTokenBudget, CancellationToken.None);
        var outcome = await Activity(chat, archive, Llm()).Run(Request(400, summaryThrough: 250) with { ArchivedFrom = 400 }, null, CancellationToken.None);

        Assert.Equal(0, report.SummaryThrough);
        Assert.DoesNotContain("first branch", sent[0][^1].Text);
        Assert.All(sent.SelectMany(TurnsIn), n => Assert.False(n is > 200 and <= 300, $"turn {n} is another branch's"));
        Assert.True(outcome.Written);
    }
}
