using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Turns;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace FunctionsChat.Archive;

/// <summary>
/// Moves a batch of finished turns out of a session: write them (a retried, idempotent activity), then tell the
/// session, which only now lets them go. Orchestrator code: deterministic.
/// </summary>
public static class ArchiveTurns
{
    [Function(nameof(ArchiveTurns))]
    public static async Task Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var batch = context.GetInput<ArchiveInput>() ?? throw new InvalidOperationException("ArchiveTurns needs its input.");
        var session = SessionEntityIds.For(batch.SessionKey);
        var report = new ArchiveReport(batch.BatchId, batch.ThroughSequence);
        try
        {
            await context.CallActivityAsync<int>(nameof(ArchiveActivities.WriteArchive), new ArchiveWork(batch.SessionKey, batch.Turns), ModelRetry.AnyFailure(batch.Retry));
        }
        catch (TaskFailedException)
        {
            await context.Entities.SignalEntityAsync(session, nameof(ChatSession.ArchiveFailed), report);
            return;
        }

        await context.Entities.SignalEntityAsync(session, nameof(ChatSession.ConfirmArchived), report);
    }
}

/// <summary>Deletes a deleted or expired session's archive.</summary>
public static class DeleteArchive
{
    [Function(nameof(DeleteArchive))]
    public static async Task Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var deletion = context.GetInput<ArchiveDeletion>() ?? throw new InvalidOperationException("DeleteArchive needs its input.");
        await context.CallActivityAsync<int>(nameof(ArchiveActivities.DeleteArchivedTurns), new ArchiveWork(deletion.SessionKey, []), ModelRetry.AnyFailure(deletion.Retry));
    }
}

/// <summary>The archive's I/O, each an activity so the Durable runtime retries it.</summary>
public sealed class ArchiveActivities(ITranscriptArchive archive)
{
    [Function(nameof(WriteArchive))]
    public async Task<int> WriteArchive([ActivityTrigger] ArchiveWork work, CancellationToken cancellation)
    {
        await archive.WriteAsync(work.SessionKey, work.Turns, cancellation);
        return work.Turns.Count;
    }

    [Function(nameof(DeleteArchivedTurns))]
    public Task<int> DeleteArchivedTurns([ActivityTrigger] ArchiveWork work, CancellationToken cancellation) =>
        archive.DeleteAsync(work.SessionKey, cancellation);
}
