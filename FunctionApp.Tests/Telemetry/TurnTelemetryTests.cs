using FunctionsChat.Tests.Llm;
using System.Diagnostics;
using FunctionsChat.Domain;
using FunctionsChat.Llm;
using FunctionsChat.Sessions;
using FunctionsChat.Telemetry;
using FunctionsChat.Tests.Http;
using FunctionsChat.Tests.Sessions;
using FunctionsChat.Tests.Turns;
using FunctionsChat.Turns;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace FunctionsChat.Tests.Telemetry;

/// <summary>
/// One turn driven through the real handlers (HTTP send, entity operations, orchestration, model activity), with
/// spans collected by OpenTelemetry's in-memory exporter and metrics by MetricCollector.
/// </summary>
public sealed class TurnTelemetryTests : IDisposable
{
    readonly SpanCollection spans = [];
    readonly TracerProvider tracing;
    readonly string sessionId = "otel-" + Guid.NewGuid().ToString("N")[..12];

    public TurnTelemetryTests() =>
        tracing = Sdk.CreateTracerProviderBuilder().AddSource(ChatTelemetry.Name).AddInMemoryExporter(spans).Build()!;

    public void Dispose() => tracing.Dispose();

    List<Activity> Mine()
    {
        tracing.ForceFlush();
        return spans.Snapshot().Where(s => Equals(s.GetTagItem(ChatTelemetry.SessionIdTag), sessionId)).ToList();
    }

    [Theory]
    [InlineData("has space", null)]
    [InlineData("..%2Fx", null)]
    [InlineData("session-ok", "session-ok")]
    public async Task The_http_span_carries_the_session_id_only_when_it_is_a_valid_one(string routeValue, string? tagged)
    {
        using var parent = new Activity("test").SetIdFormat(ActivityIdFormat.W3C);
        parent.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        parent.Start();
        var http = new HttpHarness { EntityApplies = true };

        await http.History.GetHistory(HttpHarness.Request("GET", "/Chat/x/getHistory", contentType: null), http.Client.Object, routeValue);
        tracing.ForceFlush();

        var span = Assert.Single(spans.Snapshot(), s => s.TraceId == parent.TraceId && s.DisplayName == "HTTP GetHistory");
        Assert.Equal(tagged, span.GetTagItem(ChatTelemetry.SessionIdTag));
    }

    static IChatClient Model(Exception? failure = null)
    {
        var chat = new Mock<IChatClient>().StreamingItsResponses();
        var call = chat.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()));
        if (failure is not null)
        {
            call.ThrowsAsync(failure);
        }
        else
        {
            call.ReturnsAsync(new ChatResponse(new ChatMessage(ChatRole.Assistant, "A poem about durable execution."))
            {
                ModelId = "gpt-4o-mini-2024-07-18",
                FinishReason = ChatFinishReason.Stop,
                Usage = new UsageDetails { InputTokenCount = 42, OutputTokenCount = 7 },
            });
        }

        return chat.Object;
    }

    /// <summary>HTTP send, entity Enqueue, the ChatTurn orchestration calling the real GenerateReply, entity Complete or Fail.</summary>
    async Task<TurnResult> DriveTurn(ChatTelemetry telemetry, IChatClient model, bool replaying = false)
    {
        var http = new HttpHarness { EntityApplies = true };
        await http.Messages.SendMessage(HttpHarness.Post($"/Chat/{sessionId}/message/send", "Write a poem", "t1"), http.Client.Object, sessionId);
        var request = (TurnRequest)http.Signals.Single().Input!;
        string key = HttpHarness.Key(sessionId);

        var entity = new RecordingEntityContext(key);
        var limits = SessionLimits.Default;
        var state = SessionStep.Operate(entity.Object, nameof(ChatSession.Enqueue), request.TurnId, request.TraceParent,
            () => SessionTransitions.Enqueue(ChatSessionState.Empty, request, HttpHarness.Start, limits), RetrySchedule.Default, telemetry, NullLogger.Instance).State!;
        var input = (ChatTurnInput)entity.Scheduled.Single().Input!;

        var llm = new LlmOptions { Provider = LlmProvider.AzureOpenAI, Model = "gpt-4o-mini", SystemPrompt = "Be brief." };
        var activity = new GenerateReply(model, new ContextAssembler(new ContextFitter(ContextFitter.CreateTokenizer()), http.Archive, Options.Create(llm)), http.Archive, http.Archive, TimeProvider.System, Options.Create(llm), telemetry);
        var turn = new TurnHarness();
        turn.Context.Setup(c => c.GetInput<ChatTurnInput>()).Returns(input);
        turn.Context.SetupGet(c => c.IsReplaying).Returns(replaying);
        turn.Context.SetupGet(c => c.CurrentUtcDateTime).Returns(input.StartedAt.UtcDateTime.AddSeconds(3));
        turn.Context.Setup(c => c.CallActivityAsync<ModelReply>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns<TaskName, object?, TaskOptions?>(async (_, reply, _) =>
            {
                try
                {
                    return await activity.Run((ReplyRequest)reply!, null, CancellationToken.None);
                }
                catch (ModelCallException e)
                {
                    throw new TaskFailedException("GenerateReply", 1, new TaskFailureDetails(e.GetType().FullName!, e.Message, null, null, null));
                }
            });
        var result = await new ChatTurn(telemetry).Run(turn.Context.Object);
        var (_, operation, report) = turn.Calls.Single();

        string running = state.Active!.Turn.TraceParent!;
        Func<Transition> finish = report is TurnCompletion completion
            ? () => SessionTransitions.Complete(state, completion, HttpHarness.Start, limits)
            : () => SessionTransitions.Fail(state, (TurnFailure)report!, HttpHarness.Start, limits);
        SessionStep.Operate(new RecordingEntityContext(key).Object, operation, request.TurnId, running, finish, RetrySchedule.Default, telemetry, NullLogger.Instance);
        return result;
    }

    [Fact]
    public async Task A_turn_is_one_trace_from_the_request_through_the_entity_the_orchestration_and_the_model_call()
    {
        await DriveTurn(TestTelemetry.Create(), Model());

        var mine = Mine();
        Assert.Equal(["ChatSession.Complete", "ChatSession.Enqueue", "ChatTurn", "HTTP SendMessage", "chat gpt-4o-mini"], mine.Select(s => s.DisplayName).Order(StringComparer.Ordinal));
        var request = mine.Single(s => s.DisplayName == "HTTP SendMessage");
        Assert.All(mine, s => Assert.Equal(request.TraceId, s.TraceId));
        Assert.All(mine.Where(s => s != request), s => Assert.Equal(request.SpanId, s.ParentSpanId));
        Assert.All(mine, s => Assert.Equal("t1", s.GetTagItem(ChatTelemetry.TurnIdTag)));
    }

    [Fact]
    public async Task The_model_span_follows_the_GenAI_conventions_and_carries_the_reported_usage()
    {
        await DriveTurn(TestTelemetry.Create(), Model());

        var model = Mine().Single(s => s.DisplayName == "chat gpt-4o-mini");
        Assert.Equal(ActivityKind.Client, model.Kind);
        Assert.Equal("chat", model.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("azure.ai.openai", model.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("gpt-4o-mini", model.GetTagItem("gen_ai.request.model"));
        Assert.Equal("gpt-4o-mini-2024-07-18", model.GetTagItem("gen_ai.response.model"));
        Assert.Equal(42L, model.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(7L, model.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(["stop"], (string[])model.GetTagItem("gen_ai.response.finish_reasons")!);
    }

    [Fact]
    public async Task A_turn_is_counted_from_start_to_completion_with_its_duration_and_tokens()
    {
        var (telemetry, meters) = TestTelemetry.WithMeters();
        using var started = new MetricCollector<long>(meters, ChatTelemetry.Name, "chat.turns.started");
        using var completed = new MetricCollector<long>(meters, ChatTelemetry.Name, "chat.turns.completed");
        using var queue = new MetricCollector<int>(meters, ChatTelemetry.Name, "chat.queue.length");
        using var duration = new MetricCollector<double>(meters, ChatTelemetry.Name, "chat.turn.duration");
        using var tokens = new MetricCollector<long>(meters, ChatTelemetry.Name, "gen_ai.client.token.usage");

        await DriveTurn(telemetry, Model());

        Assert.Equal(1, started.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, completed.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal([0], queue.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal([3.0], duration.GetMeasurementSnapshot().Select(m => m.Value));
        var usage = tokens.GetMeasurementSnapshot();
        Assert.Equal(42, usage.Single(m => m.Tags["gen_ai.token.type"] as string == "input").Value);
        Assert.Equal(7, usage.Single(m => m.Tags["gen_ai.token.type"] as string == "output").Value);
        Assert.All(usage, m => Assert.Equal("gpt-4o-mini-2024-07-18", m.Tags["gen_ai.response.model"]));
    }

    [Fact]
    public async Task A_failed_turn_records_its_error_code_on_spans_and_in_the_failed_counter()
    {
        var (telemetry, meters) = TestTelemetry.WithMeters();
        using var failed = new MetricCollector<long>(meters, ChatTelemetry.Name, "chat.turns.failed");

        var result = await DriveTurn(telemetry, Model(new HttpRequestException("Connection refused")));

        Assert.Equal(ModelFailure.Network, result.ErrorCode);
        var mine = Mine();
        var model = mine.Single(s => s.DisplayName == "chat gpt-4o-mini");
        Assert.Equal((ActivityStatusCode.Error, ModelFailure.Network), (model.Status, model.GetTagItem("error.type")));
        var turn = mine.Single(s => s.DisplayName == "ChatTurn");
        Assert.Equal((ActivityStatusCode.Error, (object?)ModelFailure.Network), (turn.Status, turn.GetTagItem(ChatTelemetry.ErrorCodeTag)));
        var count = Assert.Single(failed.GetMeasurementSnapshot());
        Assert.Equal((1L, (object?)ModelFailure.Network), (count.Value, count.Tags[ChatTelemetry.ErrorCodeTag]));
    }

    [Fact]
    public async Task Message_text_is_not_recorded_by_default()
    {
        await DriveTurn(TestTelemetry.Create(), Model());

        var model = Mine().Single(s => s.DisplayName == "chat gpt-4o-mini");
        Assert.Null(model.GetTagItem("gen_ai.input.messages"));
        Assert.Null(model.GetTagItem("gen_ai.output.messages"));
        Assert.DoesNotContain(Mine().SelectMany(s => s.TagObjects), t => t.Value is string v && v.Contains("Write a poem", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Message_text_is_recorded_when_the_setting_turns_it_on()
    {
        await DriveTurn(TestTelemetry.Create(recordMessageText: true), Model());

        var model = Mine().Single(s => s.DisplayName == "chat gpt-4o-mini");
        Assert.Contains("Write a poem", (string)model.GetTagItem("gen_ai.input.messages")!);
        Assert.Contains("A poem about durable execution.", (string)model.GetTagItem("gen_ai.output.messages")!);
    }

    [Fact]
    public async Task A_replayed_orchestration_records_no_second_span_and_no_second_duration()
    {
        var (telemetry, meters) = TestTelemetry.WithMeters();
        using var duration = new MetricCollector<double>(meters, ChatTelemetry.Name, "chat.turn.duration");

        await DriveTurn(telemetry, Model(), replaying: true);

        Assert.DoesNotContain(Mine(), s => s.DisplayName == "ChatTurn");
        Assert.Empty(duration.GetMeasurementSnapshot());
    }

    [Fact]
    public void Orchestration_logs_go_only_through_the_replay_safe_logger()
    {
        // ChatTurn takes no ILogger of its own: every log line goes through CreateReplaySafeLogger, which the SDK
        // silences while the orchestration replays.
        var constructor = typeof(ChatTurn).GetConstructors().Single();
        Assert.DoesNotContain(constructor.GetParameters(), p => typeof(ILogger).IsAssignableFrom(p.ParameterType));
    }

    [Fact]
    public void Entity_operations_log_within_a_scope_of_session_and_turn()
    {
        var scopes = new List<object?>();
        var logger = new Mock<ILogger>();
        logger.Setup(l => l.BeginScope(It.IsAny<Dictionary<string, object?>>())).Callback<object>(scopes.Add).Returns(Mock.Of<IDisposable>());
        SessionStep.Operate(new RecordingEntityContext(HttpHarness.Key(sessionId)).Object, "Cancel", "t9", null, () => new Transition(ChatSessionState.Empty, TransitionNote.NotFound), RetrySchedule.Default, TestTelemetry.Create(), logger.Object);

        var scope = Assert.IsType<Dictionary<string, object?>>(Assert.Single(scopes));
        Assert.Equal((sessionId, "t9"), (scope["SessionId"], scope["TurnId"]));
    }
}
