using System.ComponentModel.DataAnnotations;

namespace FunctionsChat.Http;

/// <summary>The <c>Api</c> configuration section.</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>
    /// How long a call waits for its answer before it answers 202 with where to look. At most 220 s: Azure's front end
    /// ends a request at about 230 s with its own 504, and the answer needs time to be written.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:03:40")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>How long a send waits for the session to confirm it has taken the message, before it answers 503.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:03:40")]
    public TimeSpan AcceptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The first pause between reads of the session while a request waits, doubling up to <see cref="PollMaxDelay"/>:
    /// short, because the session usually takes a message within one queue hop (about 10 to 20 ms on a warm app).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan PollInitialDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan PollMaxDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(1, 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 32 * 1024;

    [Range(1, 1000)]
    public int MaxPageSize { get; set; } = 100;

    /// <summary>
    /// What a message does when it arrives while a turn is running or queued, unless its body names a
    /// <c>multitask_strategy</c>: enqueue (the default), reject, interrupt or rollback.
    /// </summary>
    public Domain.MultitaskStrategy MultitaskStrategy { get; set; } = Domain.MultitaskStrategy.Enqueue;

    /// <summary>How long a cancel waits for the running turn's model call to stop and report, before it answers anyway.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:03:40")]
    public TimeSpan CancelTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Event streams (a turn's, a session's, or a streamed call) one caller may have open on one instance; past it, 429.</summary>
    [Range(1, 10_000)]
    public int MaxStreamsPerCaller { get; set; } = 8;
}
