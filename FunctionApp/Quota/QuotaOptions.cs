using System.ComponentModel.DataAnnotations;
using FunctionsChat.Domain;

namespace FunctionsChat.Quota;

/// <summary>Fair use per caller, across all their sessions (section <c>Quota</c>); every limit is off (0) by default.</summary>
public sealed class QuotaOptions
{
    public const string Section = "Quota";

    /// <summary>Messages a caller may have accepted in any minute (sends, calls, regenerates and edits); 0: no limit.</summary>
    [Range(0, 100_000)]
    public int MessagesPerMinute { get; set; }

    /// <summary>Model tokens (input plus output, as the model reported them) a caller may use in <see cref="TokenPeriod"/>; 0: no limit.</summary>
    [Range(0, long.MaxValue)]
    public long TokensPerPeriod { get; set; }

    /// <summary>
    /// Turns a caller may have running at once across all their sessions; 0: no limit. A turn past it waits, queued,
    /// until one of the caller's turns finishes.
    /// </summary>
    [Range(0, MaxRunningTurns)]
    public int RunningTurns { get; set; }

    /// <summary>The largest running-turn limit: the caller's quota holds one entry per session running, within its stored-state budget.</summary>
    public const int MaxRunningTurns = 32;

    /// <summary>The rolling period of <see cref="TokensPerPeriod"/>.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "31.00:00:00")]
    public TimeSpan TokenPeriod { get; set; } = TimeSpan.FromDays(1);

    public QuotaLimits Limits => new(MessagesPerMinute, TokensPerPeriod, TokenPeriod) { RunningTurns = RunningTurns };
}
