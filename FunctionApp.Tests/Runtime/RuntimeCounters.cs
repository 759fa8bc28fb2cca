using System.Collections.Concurrent;
using System.Diagnostics;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// What the real runtime did, counted where it happens: the work items the test host ran (orchestrator episodes, each a
/// replay of the history so far; activity runs; entity batches), and every Azure Storage operation a client in this
/// process made, the backend's and the app's alike, by the name Azure.Core gives the operation's diagnostic scope
/// ("QueueClient.SendMessage", "TableClient.SubmitTransaction", ...). Process-wide: the real-runtime tests run alone.
/// </summary>
public static class RuntimeCounters
{
    public const string OrchestratorEpisodes = "orchestrator episodes";
    public const string ActivityRuns = "activity runs";
    public const string EntityBatches = "entity batches";

    static readonly string[] StorageSources = ["Azure.Data.Tables", "Azure.Storage.Queues", "Azure.Storage.Blobs"];
    static readonly ConcurrentDictionary<string, long> Counts = new();
    static readonly List<IDisposable> Subscriptions = [];
    static int listening;

    public static void Count(string what) => Counts.AddOrUpdate(what, 1, (_, n) => n + 1);

    /// <summary>Starts counting storage operations (once per process); the work items are counted always.</summary>
    public static void Listen()
    {
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

        public long QueueMessagesSent => this["QueueClient.SendMessage"];

        public long QueueMessagesDeleted => this["QueueClient.DeleteMessage"];

        public long QueuePolls => this["QueueClient.ReceiveMessages"];

        public long TableWrites => Where(n => n is "TableClient.AddEntity" or "TableClient.UpsertEntity" or "TableClient.UpdateEntity" or "TableClient.DeleteEntity" or "TableClient.SubmitTransaction");

        public long TableReads => Where(n => n is "TableClient.GetEntity" or "TableClient.Query");

        public long BlobOperations => Where(n => n.StartsWith("Blob", StringComparison.Ordinal) || n.StartsWith("BlockBlob", StringComparison.Ordinal));
    }

    sealed class Sources : IObserver<DiagnosticListener>
    {
        public void OnNext(DiagnosticListener listener)
        {
            if (StorageSources.Contains(listener.Name))
            {
                lock (Subscriptions)
                {
                    Subscriptions.Add(listener.Subscribe(new Operations(), (_, _, _) => true));
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

    sealed class Operations : IObserver<KeyValuePair<string, object?>>
    {
        public void OnNext(KeyValuePair<string, object?> value)
        {
            if (value.Key.EndsWith(".Start", StringComparison.Ordinal))
            {
                Count(value.Key[..^".Start".Length]);
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
