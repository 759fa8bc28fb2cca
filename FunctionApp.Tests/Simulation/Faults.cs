namespace FunctionsChat.Tests.Simulation;

/// <summary>
/// What the platform may do, each as documented, with how often the simulation does it. Every fault here is one the
/// Durable Task runtime or its Azure Storage backend promises it may produce; nothing else is simulated.
/// </summary>
public sealed record Faults
{
    /// <summary>No faults: every message once, in order, on time. The liveness phase runs with these.</summary>
    public static Faults None { get; } = new();

    public static Faults Platform { get; } = new()
    {
        // Client signals are delivered at least once and in no particular order ("Entity functions", Durable Functions
        // docs: reliable delivery is at-least-once; only messages from one orchestration or entity keep their order).
        DuplicateClientSignal = 0.15,
        // With no reorder window (host.json), no sorter de-duplicates an orchestration's signal either.
        DuplicateOrchestrationSignal = 0.1,
        // An entity operation can throw (a bug, a payload it cannot read): rolled back, the failure goes to the caller.
        EntityOperationThrows = 0.02,
        ClientSignalSpread = TimeSpan.FromSeconds(3),
        // A copy the queue delivers again after its visibility timeout (a worker took it and was lost, or its delete
        // failed): minutes after the first (AzureStorageOrchestrationServiceSettings.ControlQueueVisibilityTimeout, 5 min).
        LateClientCopy = 0.3,
        // The backend sends a work item's messages before it saves its state
        // (AzureStorageOrchestrationService.CompleteTaskOrchestrationWorkItemAsync); a worker lost in between leaves the
        // messages out and the operation runs again from the old state once the message is visible again.
        PartialCommit = 0.03,
        // A client's read of an entity fails or times out (a storage error, a throttled table).
        ClientReadFails = 0.03,
        // A scheduled signal becomes visible on a queue of whole-second visibility, and the dispatcher runs a signal up
        // to 100 ms before its time: up to a second early. Backlogs make it late, by seconds to minutes.
        EarlySignal = 0.4,
        // A durable timer's message is on the same queues: seen on Azurite firing up to about a second early.
        EarlyTimer = 0.4,
        LateSignal = 0.2,
        MaxLate = TimeSpan.FromMinutes(3),
        // A worker may crash between any two durable steps: the work item's effects are lost and it runs again.
        Crash = 0.08,
        // Activities run at least once: a crash after the activity ran, before its result was recorded, runs it again.
        ActivityRunsAgain = 0.1,
        ModelTransientFailure = 0.15,
        ModelPermanentFailure = 0.03,
        // An operator (or a redeploy that drops in-flight work) terminates a turn's orchestration: it never reports back.
        TerminatedTurn = 0.04,
    };

    public double TerminatedTurn { get; init; }

    public double DuplicateClientSignal { get; init; }

    public double DuplicateOrchestrationSignal { get; init; }

    public double EntityOperationThrows { get; init; }

    public TimeSpan ClientSignalSpread { get; init; } = TimeSpan.FromMilliseconds(50);

    public double LateClientCopy { get; init; }

    public double PartialCommit { get; init; }

    public double ClientReadFails { get; init; }

    /// <summary>The backend's control-queue visibility timeout: a message taken and not deleted is seen again after it.</summary>
    public static readonly TimeSpan VisibilityTimeout = TimeSpan.FromMinutes(5);

    public double EarlySignal { get; init; }

    public double EarlyTimer { get; init; }

    public double LateSignal { get; init; }

    public TimeSpan MaxLate { get; init; }

    public double Crash { get; init; }

    public double ActivityRunsAgain { get; init; }

    public double ModelTransientFailure { get; init; }

    public double ModelPermanentFailure { get; init; }

    /// <summary>The Azure Storage backend's longest signal delay; a longer one is held and re-delivered in hops of this.</summary>
    public static readonly TimeSpan MaxSignalDelay = TimeSpan.FromDays(6);
}
