using System.ComponentModel.DataAnnotations;

namespace FunctionsChat.Http;

/// <summary>The <c>Api</c> configuration section.</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>How long a call waits for its answer before it answers 202 with where to look.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(120);

    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan PollInitialDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan PollMaxDelay { get; set; } = TimeSpan.FromSeconds(1);

    [Range(1, 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 32 * 1024;

    [Range(1, 1000)]
    public int MaxPageSize { get; set; } = 100;
}
