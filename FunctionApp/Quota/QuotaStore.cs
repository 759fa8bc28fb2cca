using FunctionsChat.Domain;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Quota;

/// <summary>What the HTTP functions and the model activity do to a caller's quota: read it, tell it.</summary>
public static class QuotaStore
{
    /// <summary>The caller's usage; null when there is none.</summary>
    public static async Task<CallerUsage?> ReadAsync(DurableTaskClient client, string callerKey, CancellationToken cancellation) =>
        (await client.Entities.GetEntityAsync<CallerUsage>(CallerQuota.For(callerKey), includeState: true, cancellation))?.State;

    /// <summary>The caller's usage; null when there is none, or when it could not be read (a limit is then not enforced for that request).</summary>
    public static async Task<CallerUsage?> TryReadAsync(DurableTaskClient client, string callerKey, CancellationToken cancellation)
    {
        try
        {
            return await ReadAsync(client, callerKey, cancellation);
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Charges the caller of a session's key model tokens (none when the charge is of nothing).</summary>
    public static Task ChargeAsync(DurableTaskClient client, string sessionKey, TokenCharge charge, CancellationToken cancellation) =>
        charge.Tokens > 0 || charge.Call is not null
            ? TellAsync(client, SessionKeys.OwnerOf(sessionKey), nameof(CallerQuota.Used), charge, cancellation)
            : Task.CompletedTask;

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
