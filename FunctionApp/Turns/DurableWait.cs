using Microsoft.DurableTask;

namespace FunctionsChat.Turns;

/// <summary>
/// A wait on durable timers that is never shorter than asked. On the Azure Storage backend a timer can fire up to about
/// a second early (its message becomes visible on a queue of whole-second visibility), so the orchestration's clock is
/// read again after each timer and the wait re-armed until it has reached the due time.
/// </summary>
public static class DurableWait
{
    public static async Task UntilAsync(TaskOrchestrationContext context, DateTime due, CancellationToken cancellation)
    {
        while (context.CurrentUtcDateTime < due)
        {
            await context.CreateTimer(due, cancellation);
        }
    }
}
