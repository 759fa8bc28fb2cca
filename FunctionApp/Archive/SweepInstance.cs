using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace FunctionsChat.Archive;

/// <summary>Purges a finished orchestration by its instance id (a deletion's, which names its session).</summary>
public static class SweepInstance
{
    /// <summary>The sweep's own instance id: the swept instance's, marked, so a repeated start is refused as a duplicate.</summary>
    public static string InstanceIdFor(string sweptInstanceId) => "chatsweep:" + sweptInstanceId;

    [Function(nameof(SweepInstance))]
    public static async Task Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var sweep = context.GetInput<InstanceSweep>() ?? throw new InvalidOperationException("SweepInstance needs its input.");
        await PurgeSteps.RunAsync(context, sweep.Purge, sweep.Retry);
    }
}
