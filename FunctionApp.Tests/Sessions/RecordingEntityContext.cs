using FunctionsChat.Sessions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Moq;

namespace FunctionsChat.Tests.Sessions;

/// <summary>A mocked entity context for one entity (a session unless told) that records every orchestration it schedules and every signal.</summary>
public sealed class RecordingEntityContext
{
    readonly Mock<TaskEntityContext> mock = new(MockBehavior.Strict);

    public RecordingEntityContext(string sessionKey = "session123")
        : this(SessionEntityIds.For(sessionKey))
    {
    }

    public RecordingEntityContext(EntityInstanceId id)
    {
        mock.SetupGet(c => c.Id).Returns(id);
        mock.Setup(c => c.ScheduleNewOrchestration(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>()))
            .Callback<TaskName, object?, StartOrchestrationOptions?>((name, input, options) => Scheduled.Add((name.Name, input, options)))
            .Returns("instance");
        mock.Setup(c => c.SignalEntity(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>()))
            .Callback<EntityInstanceId, string, object?, SignalEntityOptions?>((id, operation, input, options) => Signals.Add((id, operation, input, options)));
    }

    public TaskEntityContext Object => mock.Object;

    public List<(string Name, object? Input, StartOrchestrationOptions? Options)> Scheduled { get; } = [];

    public List<(EntityInstanceId Id, string Operation, object? Input, SignalEntityOptions? Options)> Signals { get; } = [];
}
