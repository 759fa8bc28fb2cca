using System.ComponentModel.DataAnnotations;
using FunctionsChat.Domain;

namespace FunctionsChat.Sessions;

/// <summary>The <c>Session</c> configuration section.</summary>
public sealed class SessionOptions
{
    public const string Section = "Session";

    [Range(1, 1000)]
    public int MaxPendingTurns { get; set; } = SessionLimits.Default.MaxPendingTurns;

    /// <summary>How long a started turn may run before the session fails it and moves on.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan TurnTimeout { get; set; } = SessionLimits.Default.TurnTimeout;

    [Range(1, 20)]
    public int ModelMaxAttempts { get; set; } = RetrySchedule.Default.MaxAttempts;

    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ModelFirstRetryInterval { get; set; } = RetrySchedule.Default.FirstInterval;

    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan ModelMaxRetryInterval { get; set; } = RetrySchedule.Default.MaxInterval;

    [Range(2, 10_000)]
    public int MaxWorkingTurns { get; set; } = SessionLimits.Default.MaxWorkingTurns;

    [Range(1024, 40 * 1024 * 1024)]
    public int MaxWorkingBytes { get; set; } = SessionLimits.Default.MaxWorkingBytes;

    /// <summary>A session untouched this long deletes itself and its archive; 00:00:00 keeps sessions forever.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan IdleRetention { get; set; } = SessionLimits.Default.IdleRetention;

    /// <summary>
    /// How long a stopped turn (cancel, interrupt, rollback) has to report its stopped model call before the session
    /// finishes it anyway and goes on.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:10:00")]
    public TimeSpan StopGrace { get; set; } = SessionLimits.Default.StopGrace;

    /// <summary>Branch lines a session may hold (regenerates and edits); past it a new variant is refused with 409.</summary>
    [Range(1, 512)]
    public int MaxBranches { get; set; } = SessionLimits.Default.MaxBranches;

    public SessionLimits Limits => new(MaxPendingTurns, TurnTimeout)
    {
        MaxBranches = MaxBranches,
        StopGrace = StopGrace,
        MaxWorkingTurns = MaxWorkingTurns,
        MaxWorkingBytes = MaxWorkingBytes,
        IdleRetention = IdleRetention,
    };

    public RetrySchedule Retry => new(ModelMaxAttempts, ModelFirstRetryInterval, RetrySchedule.Default.BackoffCoefficient, ModelMaxRetryInterval);
}
