using FunctionsChat.Domain;
using FunctionsChat.Turns;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace FunctionsChat.Tests.Turns;

/// <summary>A mocked orchestration context for one turn, with the entity feature it signals through.</summary>
public sealed class TurnHarness
{
    public static readonly DateTime Now = new(2026, 5, 1, 12, 0, 0, DateTimeKind.Utc);

    public static readonly ChatTurnInput Input = new(
        "session123", "session123", "t1", "Write a poem",
        [new("user", "hi"), new("assistant", "hello")],
        RetrySchedule.Default) { Run = "0.1" };

    public Mock<TaskOrchestrationContext> Context { get; } = new(MockBehavior.Strict);

    public Mock<TaskOrchestrationEntityFeature> Entities { get; } = new(MockBehavior.Strict);

    public List<DateTime> Timers { get; } = [];

    /// <summary>How early the first timer fires, as the Azure Storage backend's can; later ones fire on time.</summary>
    public TimeSpan FirstTimerEarly { get; set; }

    /// <summary>The orchestration's clock: where the last timer left it.</summary>
    public DateTime Clock { get; private set; } = Now;

    /// <summary>Every entity call the orchestration made: target, operation, input.</summary>
    public List<(EntityInstanceId Id, string Operation, object? Input)> Calls { get; } = [];

    /// <summary>What the session answers a report with; unset, it records the report as given.</summary>
    public TurnVerdict? Verdict { get; set; }

    /// <summary>The GUID the context derives: the tail of the execution the model activity claims its call for.</summary>
    public static readonly Guid Execution = new("0f0e0d0c-0b0a-0908-0706-050403020100");

    public TurnHarness()
    {
        Context.Setup(c => c.GetInput<ChatTurnInput>()).Returns(Input);
        Context.SetupGet(c => c.CurrentUtcDateTime).Returns(() => Clock);
        Context.SetupGet(c => c.IsReplaying).Returns(false);
        Context.SetupGet(c => c.Entities).Returns(Entities.Object);
        Context.Setup(c => c.NewGuid()).Returns(Execution);
        Context.Setup(c => c.CreateReplaySafeLogger(typeof(ChatTurn))).Returns(NullLogger.Instance);
        Context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Callback<DateTime, CancellationToken>((at, _) =>
            {
                Clock = Timers.Count == 0 ? at - FirstTimerEarly : at;
                Timers.Add(at);
            })
            .Returns(Task.CompletedTask);
        Entities.Setup(e => e.CallEntityAsync<TurnVerdict>(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CallEntityOptions?>()))
            .Returns<EntityInstanceId, string, object?, CallEntityOptions?>((id, operation, input, _) =>
            {
                Calls.Add((id, operation, input));
                return Task.FromResult(Verdict ?? input switch
                {
                    TurnCompletion c => new TurnVerdict(c.TurnId, TurnStatus.Completed),
                    TurnFailure f => new TurnVerdict(f.TurnId, TurnStatus.Failed, f.Code),
                    _ => throw new InvalidOperationException("The session is only called with a turn's report."),
                });
            });
        Entities.Setup(e => e.SignalEntityAsync(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()))
            .Returns(Task.CompletedTask);
    }

    public static TaskFailedException Failure(string message, string errorType = "FunctionsChat.Llm.ModelCallException") =>
        new("GenerateReply", 0, new TaskFailureDetails(errorType, message, null, null, null));

    public Task<bool> Retry(TaskOptions options, int attempt, TaskFailureDetails failure) =>
        options.Retry!.Handler!(new RetryContext(Context.Object, attempt, failure, TimeSpan.Zero, CancellationToken.None));
}
