using FunctionsChat.Domain;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Entities;

namespace FunctionsChat.Quota;

/// <summary>
/// One caller's use across all their sessions, keyed by the caller's hashed id (the owner part of their session keys):
/// the one place that orders every decision about that caller's use. The API reads it beside the session it reads
/// anyway, so admission adds no round trip; it is told of each accepted message and each model call's tokens, and
/// grants the caller's sessions their running-turn slots. Once it holds nothing current it prunes itself away (one
/// delayed signal of its own at a time). Each operation is one of <see cref="QuotaOperations"/> over the stored state.
/// </summary>
public sealed class CallerQuota(QuotaOperations operations) : TaskEntity<CallerUsage>
{
    public static EntityInstanceId For(string callerKey) => new(nameof(CallerQuota), callerKey);

    public void Accepted(DateTimeOffset at, TaskEntityContext context) => State = operations.Accepted(State, at, context)!;

    public void Used(TokenCharge charge, TaskEntityContext context) => State = operations.Used(State, charge, context)!;

    public void Prune(TaskEntityContext context) => State = operations.Prune(State, context)!;

    public void Ask(SlotHolder ask, TaskEntityContext context) => State = operations.Ask(State, ask, context)!;

    public void Release(SlotHolder release, TaskEntityContext context) => State = operations.Release(State, release, context)!;

    [Function(nameof(CallerQuota))]
    public static Task Dispatch([EntityTrigger] TaskEntityDispatcher dispatcher) => dispatcher.DispatchAsync<CallerQuota>();

    protected override CallerUsage InitializeState(TaskEntityOperation entityOperation) => new();
}
