using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Quota;

/// <summary>
/// The caller quota's operations over a given usage and entity context: one rule of <see cref="CallerQuotaRules"/> or
/// <see cref="CallerSlotRules"/> each, carried out by signals. <see cref="CallerQuota"/> calls these with its stored
/// state; being plain methods, they run the same under any host that dispatches operations by name.
/// </summary>
public sealed class QuotaOperations(IOptions<QuotaOptions> options, TimeProvider clock)
{
    QuotaLimits Limits => options.Value.Limits;

    /// <returns>The usage to store, or null to store none.</returns>
    public CallerUsage? Accepted(CallerUsage usage, DateTimeOffset at, TaskEntityContext context) => Keep(CallerQuotaRules.Accepted(usage, at, Limits), context);

    public CallerUsage? Used(CallerUsage usage, TokenCharge charge, TaskEntityContext context) => Keep(CallerQuotaRules.Used(usage, charge, Limits), context);

    public CallerUsage? Prune(CallerUsage usage, TaskEntityContext context) => Keep(CallerQuotaRules.Current(usage with { PruneAt = null }, clock.GetUtcNow(), Limits), context);

    public CallerUsage? Ask(CallerUsage usage, SlotHolder ask, TaskEntityContext context) => Grant(CallerSlotRules.Ask(usage, ask, Limits), context);

    public CallerUsage? Release(CallerUsage usage, SlotHolder release, TaskEntityContext context) => Grant(CallerSlotRules.Release(usage, release, Limits), context);

    /// <summary>Tells each session granted a slot.</summary>
    CallerUsage? Grant(SlotDecision decision, TaskEntityContext context)
    {
        foreach (var granted in decision.Granted)
        {
            context.SignalEntity(SessionEntityIds.For($"{context.Id.Key}:{granted.Session}"), nameof(ChatSession.Granted), new SlotGrant(granted.Ask));
        }

        return Keep(decision.Usage, context);
    }

    /// <summary>The usage to store (an idle caller's as none at all), with the prune armed when none is on its way.</summary>
    CallerUsage? Keep(CallerUsage usage, TaskEntityContext context)
    {
        if (usage.IsIdle)
        {
            return null;
        }

        if (usage.PruneAt is null && CallerQuotaRules.AllPassedAt(usage, Limits) is { } due)
        {
            context.SignalEntity(context.Id, nameof(CallerQuota.Prune), null, new SignalEntityOptions { SignalTime = due });
            usage = usage with { PruneAt = due };
        }

        return usage;
    }
}
