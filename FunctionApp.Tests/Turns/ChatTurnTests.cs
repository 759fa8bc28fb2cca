using FunctionsChat.Domain;
using FunctionsChat.Turns;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Moq;

namespace FunctionsChat.Tests.Turns;

public class ChatTurnTests
{
    static readonly EntityInstanceId Session = new("ChatSession", "session123");
    static readonly ModelReply Reply = new("A poem.", "gpt-4o-mini", new TokenUsage(42, 7), "stop");

    static Moq.Language.Flow.ISetup<TaskOrchestrationContext, Task<ModelReply>> ModelCall(TurnHarness turn) =>
        turn.Context.Setup(c => c.CallActivityAsync<ModelReply>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()));

    [Fact]
    public async Task A_turn_calls_GenerateReply_with_its_context_and_a_retry_handler()
    {
        var turn = new TurnHarness();
        ModelCall(turn).ReturnsAsync(Reply);

        await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        turn.Context.Verify(c => c.CallActivityAsync<ModelReply>(
            It.Is<TaskName>(n => n.Name == "GenerateReply"),
            It.Is<ReplyRequest>(r => r.SessionId == "session123" && r.TurnId == "t1" && r.Message == "Write a poem" && r.History.SequenceEqual(TurnHarness.Input.History)),
            It.Is<TaskOptions>(o => o.Retry != null && o.Retry.Handler != null)), Times.Once);
    }

    [Fact]
    public async Task A_reply_is_reported_to_the_session_by_calling_Complete_with_the_turn_incarnation()
    {
        var turn = new TurnHarness();
        ModelCall(turn).ReturnsAsync(Reply);

        var result = await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        var call = Assert.Single(turn.Calls);
        Assert.Equal((Session, "Complete"), (call.Id, call.Operation));
        Assert.Equal(new TurnCompletion("t1", "A poem.", "gpt-4o-mini", new TokenUsage(42, 7), TurnHarness.Now) { Run = "0.1" }, call.Input);
        Assert.Equal(new TurnResult("t1", TurnStatus.Completed), result);
    }

    [Fact]
    public async Task An_answer_the_session_throws_on_is_reported_as_a_failed_turn_so_the_session_moves_on()
    {
        var turn = new TurnHarness();
        ModelCall(turn).ReturnsAsync(Reply);
        turn.Entities.Setup(e => e.CallEntityAsync<TurnVerdict>(It.IsAny<EntityInstanceId>(), "Complete", It.IsAny<object?>(), It.IsAny<CallEntityOptions?>()))
            .ThrowsAsync(new EntityOperationFailedException(Session, "Complete", new TaskFailureDetails("System.Text.Json.JsonException", "The completion could not be read.", null, null, null)));

        var result = await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        var call = Assert.Single(turn.Calls);
        Assert.Equal((Session, "Fail"), (call.Id, call.Operation));
        var failure = Assert.IsType<TurnFailure>(call.Input);
        Assert.Equal(("t1", ErrorCodes.ReportRefused, "The completion could not be read.", "0.1"), (failure.TurnId, failure.Code, failure.Message, failure.Run));
        Assert.Equal(new TurnResult("t1", TurnStatus.Failed, ErrorCode: ErrorCodes.ReportRefused), result);
    }

    [Theory]
    [InlineData(TurnStatus.Cancelled, null)]
    [InlineData(TurnStatus.Failed, ErrorCodes.TurnExpired)]
    [InlineData(null, null)]
    public async Task A_turn_the_session_already_settled_reports_the_session_verdict_not_completed(TurnStatus? recorded, string? code)
    {
        var (telemetry, meters) = FunctionsChat.Tests.Telemetry.TestTelemetry.WithMeters();
        using var durations = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<double>(meters, "FunctionsChat", "chat.turn.duration");
        var turn = new TurnHarness { Verdict = new TurnVerdict("t1", recorded, code) };
        ModelCall(turn).ReturnsAsync(Reply);

        var result = await new ChatTurn(telemetry).Run(turn.Context.Object);

        Assert.Equal(new TurnResult("t1", recorded, ErrorCode: code), result);
        var measured = Assert.Single(durations.GetMeasurementSnapshot());
        Assert.Equal(recorded?.ToString().ToLowerInvariant() ?? "gone", measured.Tags["chat.turn.status"]);
    }

    [Fact]
    public async Task A_transient_failure_is_retried_after_a_durable_timer_then_the_reply_completes_the_turn()
    {
        var turn = new TurnHarness();
        var retried = new List<bool>();
        ModelCall(turn).Returns<TaskName, object?, TaskOptions?>(async (_, _, options) =>
        {
            // What the runtime does on a failed attempt: ask the handler, and try again when it says so.
            retried.Add(await turn.Retry(options!, 1, new TaskFailureDetails("(unknown)", "[llm.server_error] 503 Service Unavailable", null, null, null)));
            return Reply;
        });

        var result = await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        Assert.Equal([true], retried);
        Assert.Equal([TurnHarness.Now.AddSeconds(1)], turn.Timers);
        Assert.Equal(TurnStatus.Completed, result.Status);
        Assert.Equal("Complete", Assert.Single(turn.Calls).Operation);
    }

    [Theory]
    [InlineData("[llm.unauthorized] 401 Unauthorized", "llm.unauthorized")]
    [InlineData("[llm.content_filtered] refused", "llm.content_filtered")]
    [InlineData("[llm.server_error] 503 after 5 attempts", "llm.server_error")]
    [InlineData("System.NullReferenceException: Object reference not set", ErrorCodes.ActivityFailed)]
    public async Task A_failed_model_call_is_signalled_to_the_session_as_Fail_with_a_stable_code(string message, string code)
    {
        var turn = new TurnHarness();
        ModelCall(turn).ThrowsAsync(TurnHarness.Failure(message));

        var result = await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        var call = Assert.Single(turn.Calls);
        Assert.Equal((Session, "Fail"), (call.Id, call.Operation));
        var failure = Assert.IsType<TurnFailure>(call.Input);
        Assert.Equal(("t1", code, TurnHarness.Now, "0.1"), (failure.TurnId, failure.Code, failure.FailedAt.UtcDateTime, failure.Run));
        Assert.Equal(new TurnResult("t1", TurnStatus.Failed, ErrorCode: code), result);
    }

    [Fact]
    public async Task The_code_is_found_in_an_inner_failure_when_the_worker_wraps_the_exception()
    {
        var turn = new TurnHarness();
        var inner = new TaskFailureDetails("FunctionsChat.Llm.ModelCallException", "[llm.forbidden] 403", null, null, null);
        ModelCall(turn).ThrowsAsync(new TaskFailedException("GenerateReply", 0, new TaskFailureDetails("Microsoft.Azure.Functions.Worker.FunctionInvocationException", "Exception while executing function", null, inner, null)));

        var result = await new ChatTurn(FunctionsChat.Tests.Telemetry.TestTelemetry.Create()).Run(turn.Context.Object);

        Assert.Equal("llm.forbidden", result.ErrorCode);
    }
}
