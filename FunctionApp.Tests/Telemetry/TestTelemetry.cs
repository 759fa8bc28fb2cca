using System.Diagnostics.Metrics;
using FunctionsChat.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Tests.Telemetry;

/// <summary>A telemetry instance of its own for a test, on its own meter factory, so metric counts are the test's alone.</summary>
public static class TestTelemetry
{
    public static (ChatTelemetry Telemetry, IMeterFactory Meters) WithMeters(bool recordMessageText = false, bool callerMetrics = true)
    {
        var meters = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();
        return (new ChatTelemetry(meters, Options.Create(new TelemetryOptions { RecordMessageText = recordMessageText, CallerMetrics = callerMetrics })), meters);
    }

    public static ChatTelemetry Create(bool recordMessageText = false) => WithMeters(recordMessageText).Telemetry;
}

/// <summary>
/// Where the in-memory exporter puts spans: other tests run in parallel and end spans of the same source on other
/// threads, so adding and reading are locked, and a test reads a snapshot.
/// </summary>
public sealed class SpanCollection : System.Collections.ObjectModel.Collection<System.Diagnostics.Activity>
{
    readonly object gate = new();

    public List<System.Diagnostics.Activity> Snapshot()
    {
        lock (gate)
        {
            return [.. Items];
        }
    }

    protected override void InsertItem(int index, System.Diagnostics.Activity item)
    {
        lock (gate)
        {
            base.InsertItem(index, item);
        }
    }
}
