using System.Diagnostics.Metrics;
using FunctionsChat.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Tests.Telemetry;

/// <summary>A telemetry instance of its own for a test, on its own meter factory, so metric counts are the test's alone.</summary>
public static class TestTelemetry
{
    public static (ChatTelemetry Telemetry, IMeterFactory Meters) WithMeters(bool recordMessageText = false)
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return (new ChatTelemetry(meters, Options.Create(new TelemetryOptions { RecordMessageText = recordMessageText })), meters);
    }

    public static ChatTelemetry Create(bool recordMessageText = false) => WithMeters(recordMessageText).Telemetry;
}
