using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;

namespace FunctionsChat.Tests.Simulation;

/// <summary>A message the simulated runtime holds until it delivers it.</summary>
public abstract record Work
{
    public long Id { get; set; }

    public DateTimeOffset DueAt { get; set; }
}

public sealed record SignalWork(EntityInstanceId Target, string Operation, string? Input, string Sender, bool Delayed, bool FromClient) : Work
{
    /// <summary>Sent by an entity operation whose state was then not saved.</summary>
    public bool Unsaved { get; init; }
}

public sealed record CallWork(EntityInstanceId Target, string Operation, string? Input, string Caller, int Incarnation, int Slot) : Work;

public sealed record StartWork(string Name, string InstanceId, string? Input) : Work
{
    /// <summary>Started by a client (de-duplicated against a running instance), not by an entity or orchestration.</summary>
    public bool FromClient { get; init; }
}

public sealed record ActivityWork(string InstanceId, int Incarnation, int Slot, string Name, string? Input) : Work;

/// <summary>An activity's result, a timer firing or an entity's answer, for one slot of an orchestration's history.</summary>
public sealed record ResultWork(string InstanceId, int Incarnation, int Slot, SlotResult Result) : Work;

/// <summary>What a history slot holds once it is done: output (JSON) or a failure, and when it arrived.</summary>
public sealed record SlotResult(string? Json, TaskFailureDetails? Failure, DateTimeOffset At);

public enum InstanceStatus
{
    Running,
    Completed,
    Failed,
    Terminated,
}

/// <summary>One orchestration instance: its history of durable actions, in the order its code took them.</summary>
public sealed class Instance(string id, string name, string? input, int incarnation, DateTimeOffset startedAt)
{
    public string Id { get; } = id;

    public string Name { get; } = name;

    public string? Input { get; } = input;

    public int Incarnation { get; } = incarnation;

    public DateTimeOffset StartedAt { get; } = startedAt;

    public InstanceStatus Status { get; set; }

    public string? Output { get; set; }

    public List<(string Action, SlotResult? Result)> History { get; } = [];
}
