using FunctionsChat.Domain;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Quota;

/// <summary>What the HTTP functions and the model activity do to a caller's quota: read it, tell it.</summary>
public static class QuotaStore
{
    /// <summary>The caller's usage; null when there is none, or when it could not be read (a limit is then not enforced for that request).</summary>
    public static async Task<CallerUsage?> TryReadAsync(DurableTaskClient client, string callerKey, CancellationToken cancellation)
    {
        try
        {
            return (await client.Entities.GetEntityAsync<CallerUsage>(CallerQuota.For(callerKey), includeState: true, cancellation))?.State;
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Tells the caller's quota of a use; a signal that fails leaves that use uncounted.</summary>
    public static async Task TellAsync(DurableTaskClient client, string callerKey, string operation, object input, CancellationToken cancellation)
    {
        try
        {
            await client.Entities.SignalEntityAsync(CallerQuota.For(callerKey), operation, input, options: null, cancellation);
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
        }
    }
}
