using System.Collections.Concurrent;
using System.Diagnostics;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// What the real runtime did, counted where it happens: the work items the test host ran (orchestrator episodes, each a
/// replay of the history so far; activity runs; entity batches), and every request to Azurite's queue, table and blob
/// services any client in this process sent, the backend's and the app's alike, seen on the way out of HttpClient and
/// named by what it does ("queue: send", "table: batch", ...). Process-wide: the real-runtime tests run alone.
/// </summary>
public static class RuntimeCounters
{
    public const string OrchestratorEpisodes = "orchestrator episodes";
    public const string ActivityRuns = "activity runs";
    public const string EntityBatches = "entity batches";

    static readonly ConcurrentDictionary<string, long> Counts = new();
    static readonly List<IDisposable> Subscriptions = [];
    static Dictionary<int, string> services = [];
    static int listening;

    static readonly ConcurrentQueue<(string What, long At)> Marks = new();

    public static void Count(string what)
    {
        Counts.AddOrUpdate(what, 1, (_, n) => n + 1);
        Marks.Enqueue((what, Stopwatch.GetTimestamp()));
    }

    /// <summary>What was counted from <paramref name="from"/> on, each with its time after it: a turn's timeline.</summary>
    public static string Timeline(long from) =>
        string.Join(", ", Marks.Where(m => m.At >= from).Select(m => $"{m.What} +{Stopwatch.GetElapsedTime(from, m.At).TotalMilliseconds:F0}"));

    /// <summary>Starts counting requests to the storage account of <paramref name="connectionString"/> (once per process).</summary>
    public static void Listen(string connectionString)
    {
        services = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .Where(kv => kv.Length == 2 && kv[0].EndsWith("Endpoint", StringComparison.Ordinal))
            .ToDictionary(kv => new Uri(kv[1]).Port, kv => kv[0][..^"Endpoint".Length].ToLowerInvariant());
        if (Interlocked.Exchange(ref listening, 1) == 0)
        {
            Subscriptions.Add(DiagnosticListener.AllListeners.Subscribe(new Sources()));
        }
    }

    /// <summary>Every count so far; two snapshots' difference is what happened between them.</summary>
    public static Snapshot Take() => new(new Dictionary<string, long>(Counts));

    public sealed record Snapshot(IReadOnlyDictionary<string, long> Counts)
    {
        public Snapshot Since(Snapshot before) =>
            new(Counts.ToDictionary(c => c.Key, c => c.Value - before.Counts.GetValueOrDefault(c.Key)));

        public long this[string what] => Counts.GetValueOrDefault(what);

        public long Where(Func<string, bool> matches) => Counts.Where(c => matches(c.Key)).Sum(c => c.Value);

        public long QueueMessagesSent => this["queue: send"];

        public long QueuePolls => this["queue: receive"];

        public long TableWrites => Where(n => n.StartsWith("table: ", StringComparison.Ordinal) && n != "table: read");

        public long TableReads => this["table: read"];

        public long BlobOperations => Where(n => n.StartsWith("blob: ", StringComparison.Ordinal));
    }

    /// <summary>What a request to the storage services does, by service, method and path.</summary>
    static string? Operation(HttpRequestMessage request)
    {
        if (request.RequestUri is not { } uri || !services.TryGetValue(uri.Port, out string? service))
        {
            return null;
        }

        string path = uri.AbsolutePath;
        string method = request.Method.Method;
        return service switch
        {
            "queue" when path.EndsWith("/messages", StringComparison.Ordinal) => method == "POST" ? "queue: send" : method == "GET" ? "queue: receive" : $"queue: {method}",
            "queue" when path.Contains("/messages/", StringComparison.Ordinal) => method == "DELETE" ? "queue: delete" : "queue: update",
            "table" when path.EndsWith("/$batch", StringComparison.Ordinal) => "table: batch",
            "table" => method == "GET" ? "table: read" : $"table: {method.ToLowerInvariant()}",
            _ => $"{service}: {method.ToLowerInvariant()}",
        };
    }

    sealed class Sources : IObserver<DiagnosticListener>
    {
        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name == "HttpHandlerDiagnosticListener")
            {
                lock (Subscriptions)
                {
                    Subscriptions.Add(listener.Subscribe(new Requests(), (_, _, _) => true));
                }
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }

    sealed class Requests : IObserver<KeyValuePair<string, object?>>
    {
        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Key == "System.Net.Http.HttpRequestOut.Start"
                && value.Value?.GetType().GetProperty("Request")?.GetValue(value.Value) is HttpRequestMessage request
                && Operation(request) is { } operation)
            {
                Count(operation);
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
