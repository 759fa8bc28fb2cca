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
        RetrySchedule.Default);

    public Mock<TaskOrchestrationContext> Context { get; } = new(MockBehavior.Strict);

    public Mock<TaskOrchestrationEntityFeature> Entities { get; } = new(MockBehavior.Strict);

    public List<DateTime> Timers { get; } = [];

    public TurnHarness()
    {
        Context.Setup(c => c.GetInput<ChatTurnInput>()).Returns(Input);
        Context.SetupGet(c => c.CurrentUtcDateTime).Returns(Now);
        Context.SetupGet(c => c.IsReplaying).Returns(false);
        Context.SetupGet(c => c.Entities).Returns(Entities.Object);
        Context.Setup(c => c.CreateReplaySafeLogger(typeof(ChatTurn))).Returns(NullLogger.Instance);
        Context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Callback<DateTime, CancellationToken>((at, _) => Timers.Add(at))
            .Returns(Task.CompletedTask);
        Entities.Setup(e => e.SignalEntityAsync(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()))
            .Returns(Task.CompletedTask);
    }

    public static TaskFailedException Failure(string message, string errorType = "FunctionsChat.Llm.ModelCallException") =>
        new("GenerateReply", 0, new TaskFailureDetails(errorType, message, null, null, null));

    public Task<bool> Retry(TaskOptions options, int attempt, TaskFailureDetails failure) =>
        options.Retry!.Handler!(new RetryContext(Context.Object, attempt, failure, TimeSpan.Zero, CancellationToken.None));
}
