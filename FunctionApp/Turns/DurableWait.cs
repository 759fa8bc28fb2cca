using Microsoft.DurableTask;

namespace FunctionsChat.Turns;

/// <summary>
/// A wait on durable timers that is never shorter than asked. On the Azure Storage backend a timer can fire up to about
/// a second early (its message becomes visible on a queue of whole-second visibility), so the orchestration's clock is
/// read again after each timer and the wait re-armed until it has reached the due time.
/// </summary>
public static class DurableWait
{
    /// <summary>Waits <paramref name="delay"/> from the orchestration's clock now.</summary>
    public static async Task ForAsync(TaskOrchestrationContext context, TimeSpan delay, CancellationToken cancellation)
    {
        var due = context.CurrentUtcDateTime + delay;
        while (context.CurrentUtcDateTime < due)
        {
            await context.CreateTimer(due, cancellation);
        }
    }
}
