using FunctionsChat.Domain;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Quota;

/// <summary>
/// One caller's use across all their sessions, keyed by the caller's hashed id (the owner part of their session keys):
/// the one place that orders every count of that caller's messages and tokens. The API reads it beside the session it
/// reads anyway, so admission adds no round trip; it is told of each accepted message and each model call's tokens.
/// Once everything it holds has passed its window it prunes itself away (one delayed signal of its own at a time).
/// </summary>
public sealed class CallerQuota(IOptions<QuotaOptions> options, TimeProvider clock) : TaskEntity<CallerUsage>
{
    public static EntityInstanceId For(string callerKey) => new(nameof(CallerQuota), callerKey);

    QuotaLimits Limits => options.Value.Limits;

    public void Accepted(DateTimeOffset at, TaskEntityContext context) => Keep(CallerQuotaRules.Accepted(State, at, Limits), context);

    public void Used(TokenCharge charge, TaskEntityContext context) => Keep(CallerQuotaRules.Used(State, charge, Limits), context);

    public void Prune(TaskEntityContext context) => Keep(CallerQuotaRules.Current(State with { PruneAt = null }, clock.GetUtcNow(), Limits), context);

    [Function(nameof(CallerQuota))]
    public static Task Dispatch([EntityTrigger] TaskEntityDispatcher dispatcher) => dispatcher.DispatchAsync<CallerQuota>();

    protected override CallerUsage InitializeState(TaskEntityOperation entityOperation) => new();

    /// <summary>Stores the usage (an idle caller's as no state at all) and arms the prune when none is on its way.</summary>
    void Keep(CallerUsage usage, TaskEntityContext context)
    {
        if (usage.IsIdle)
        {
            State = null!;
            return;
        }

        if (usage.PruneAt is null && CallerQuotaRules.AllPassedAt(usage, Limits) is { } due)
        {
            context.SignalEntity(context.Id, nameof(Prune), null, new SignalEntityOptions { SignalTime = due });
            usage = usage with { PruneAt = due };
        }

        State = usage;
    }
}
