namespace FunctionsChat.Telemetry;

/// <summary>The <c>Telemetry</c> configuration section.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Record message and reply text on spans. Off by default: conversations are personal data.</summary>
    public bool RecordMessageText { get; set; }

    /// <summary>
    /// Export each caller's use (messages, tokens, refusals, waits for a running-turn slot) as metrics tagged with the
    /// caller's hashed id: one series per caller. On by default; turn it off when callers are too many for the metrics
    /// backend.
    /// </summary>
    public bool CallerMetrics { get; set; } = true;

    /// <summary>Write spans and metrics to the console (local development).</summary>
    public bool ConsoleExporter { get; set; }
}
