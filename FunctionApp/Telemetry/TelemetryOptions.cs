namespace FunctionsChat.Telemetry;

/// <summary>The <c>Telemetry</c> configuration section.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Record message and reply text on spans. Off by default: conversations are personal data.</summary>
    public bool RecordMessageText { get; set; }

    /// <summary>Write spans and metrics to the console (local development).</summary>
    public bool ConsoleExporter { get; set; }
}
