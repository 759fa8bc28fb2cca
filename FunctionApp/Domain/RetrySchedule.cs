using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

/// <summary>
/// When to try a failed model call again: transient failures only, exponential back-off, and never sooner
/// than the service's own Retry-After, all within <see cref="MaxInterval"/>. Travels in the turn's input so a
/// replay decides exactly as the first run did.
/// </summary>
public sealed record RetrySchedule(
    [property: JsonPropertyName("maxAttempts")] int MaxAttempts,
    [property: JsonPropertyName("firstInterval")] TimeSpan FirstInterval,
    [property: JsonPropertyName("backoffCoefficient")] double BackoffCoefficient,
    [property: JsonPropertyName("maxInterval")] TimeSpan MaxInterval)
{
    public static RetrySchedule Default { get; } = new(5, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(60));

    /// <summary>The wait before the next attempt, or null when the call must not be tried again.</summary>
    public TimeSpan? DelayAfter(int failedAttempts, ModelFailure? failure)
    {
        if (failure is not { IsTransient: true })
        {
            return null;
        }

        return DelayAfterAny(failedAttempts, failure.RetryAfter);
    }

    /// <summary>The wait before the next attempt of a call whose every failure is worth retrying (storage writes).</summary>
    public TimeSpan? DelayAfterAny(int failedAttempts, TimeSpan? retryAfter = null)
    {
        if (failedAttempts >= MaxAttempts)
        {
            return null;
        }

        double backoffMs = FirstInterval.TotalMilliseconds * Math.Pow(BackoffCoefficient, failedAttempts - 1);
        var delay = TimeSpan.FromMilliseconds(Math.Min(backoffMs, MaxInterval.TotalMilliseconds));
        if (retryAfter is { } wait && wait > delay)
        {
            delay = wait < MaxInterval ? wait : MaxInterval;
        }

        return delay;
    }

    /// <summary>
    /// The longest a model call can take with every retry: each attempt runs to its request timeout and each wait
    /// is the longest allowed (a Retry-After is capped at <see cref="MaxInterval"/> too).
    /// </summary>
    public TimeSpan WorstCase(TimeSpan requestTimeout) => requestTimeout * MaxAttempts + MaxInterval * (MaxAttempts - 1);

    /// <summary>
    /// The summary step's schedule: at most two attempts, since a turn is answered without an up-to-date summary
    /// rather than waiting long for one; each attempt is one model call.
    /// </summary>
    public RetrySchedule ForSummary() => this with { MaxAttempts = Math.Min(2, MaxAttempts) };
}
