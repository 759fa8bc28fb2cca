using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Turns;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

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
        await PurgeSteps.RunAsync(context, batch.Purge, batch.Retry);
    }
}

/// <summary>
/// Purges finished orchestrations that hold a session's words, as a step of an orchestration: once now, and once
/// more after the linger for any that were still running. A purge that fails for good leaves them; it never fails
/// the orchestration's real work.
/// </summary>
public static class PurgeSteps
{
    /// <returns>Whether it waited out the linger for instances still running at the first purge.</returns>
    public static async Task<bool> RunAsync(TaskOrchestrationContext context, PurgeWork work, RetrySchedule retry)
    {
        if (work.IsEmpty)
        {
            return false;
        }

        bool lingered = false;
        try
        {
            var left = await context.CallActivityAsync<string[]>(nameof(ArchiveActivities.PurgeInstances), work, ModelRetry.AnyFailure(retry));
            if (left.Length > 0 && work.Linger > TimeSpan.Zero)
            {
                await DurableWait.ForAsync(context, work.Linger, CancellationToken.None);
                lingered = true;
                await context.CallActivityAsync<string[]>(nameof(ArchiveActivities.PurgeInstances), work with { InstanceIds = left, Linger = TimeSpan.Zero }, ModelRetry.AnyFailure(retry));
            }
        }
        catch (TaskFailedException)
        {
            // The instances stay in the task hub; the words they hold are the user's, so the failure is in the activity's log.
        }

        return lingered;
    }
}

/// <summary>Deletes a deleted or expired session's archive, its summary and its stored words, and purges its orchestrations.</summary>
public static class DeleteArchive
{
    [Function(nameof(DeleteArchive))]
    public static async Task Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var deletion = context.GetInput<ArchiveDeletion>() ?? throw new InvalidOperationException("DeleteArchive needs its input.");
        var work = new ArchiveWork(deletion.SessionKey, []) { Erase = deletion.Erase };

        // The backend sends a delete's messages (this start among them) before it saves the session's state, and runs
        // a delete whose state was lost again: the words go only once the saved state says the session was deleted,
        // never while it still shows the turns they belong to.
        var session = SessionEntityIds.For(deletion.SessionKey);
        var giveUpAt = context.CurrentUtcDateTime + SessionLimits.Default.RedeliveryHorizon;
        while (!await context.Entities.CallEntityAsync<bool>(session, nameof(ChatSession.Erasable), deletion.Erase) && context.CurrentUtcDateTime < giveUpAt)
        {
            await DurableWait.ForAsync(context, ErasableCheck, CancellationToken.None);
        }

        await context.CallActivityAsync<int>(nameof(ArchiveActivities.DeleteArchivedTurns), work, ModelRetry.AnyFailure(deletion.Retry));
        if (!await PurgeSteps.RunAsync(context, deletion.Purge, deletion.Retry))
        {
            await DurableWait.ForAsync(context, deletion.SweepAgainAfter, CancellationToken.None);
        }

        // What raced the delete is swept once more: a request accepted before it that stored its words just after the
        // first pass, a turn (purged only now) that stored its answer or its summary, a batch that landed late.
        await context.CallActivityAsync<int>(nameof(ArchiveActivities.DeleteArchivedTurns), work, ModelRetry.AnyFailure(deletion.Retry));
        if (deletion.Forget)
        {
            await context.CallActivityAsync<bool>(nameof(ArchiveActivities.PurgeEmptySession), deletion.SessionKey, ModelRetry.AnyFailure(deletion.Retry));
        }

        // This instance's input and history name the session: an orchestration of its own, named only by this
        // instance's id, purges it once it has finished.
        var sweep = new InstanceSweep(new PurgeWork([context.InstanceId], SweepLinger), deletion.Retry);
        await context.CallActivityAsync<string>(nameof(ArchiveActivities.StartSweep), sweep, ModelRetry.AnyFailure(deletion.Retry));
    }

    /// <summary>How often a deletion asks whether the session's deleted state is saved, until it is.</summary>
    public static readonly TimeSpan ErasableCheck = TimeSpan.FromSeconds(10);

    /// <summary>How long the sweep waits for the deletion to finish before it purges it again (it finishes at once).</summary>
    public static readonly TimeSpan SweepLinger = TimeSpan.FromSeconds(10);
}

/// <summary>The archive's I/O, each an activity so the Durable runtime retries it.</summary>
public sealed class ArchiveActivities(ITranscriptArchive archive, ITurnStreams streams, TimeProvider? clock = null)
{
    /// <summary>How long an empty session's row must have been untouched before it is purged: no message is on its way.</summary>
    public static readonly TimeSpan QuietBeforePurge = TimeSpan.FromMinutes(1);

    [Function(nameof(WriteArchive))]
    public async Task<int> WriteArchive([ActivityTrigger] ArchiveWork work, CancellationToken cancellation)
    {
        // Words the batch carried only by key are read back, so each archived row holds its turn whole.
        var turns = await StoredTexts.FillAsync(archive, work.SessionKey, work.Turns, cancellation);
        await archive.WriteAsync(work.SessionKey, turns, cancellation);

        // A turn's stream lives while the turn is in the working set: archived, it is replayed from its answer alone.
        foreach (var turn in work.Turns)
        {
            await streams.DeleteAsync(work.SessionKey, StreamKeys.Of(turn.AcceptedAt, turn.TurnId), cancellation);
        }

        return work.Turns.Count;
    }

    [Function(nameof(DeleteArchivedTurns))]
    public Task<int> DeleteArchivedTurns([ActivityTrigger] ArchiveWork work, CancellationToken cancellation) =>
        archive.DeleteAsync(work.SessionKey, work.Erase ?? new Erasure(DateTimeOffset.MaxValue, long.MaxValue), cancellation);

    /// <summary>
    /// Purges the named instances and every instance whose id starts with one of the prefixes, each only once it has
    /// finished: the Azure Storage backend purges an instance whatever its status, and a running turn purged would
    /// lose its history under it.
    /// </summary>
    /// <returns>The instances not purged: not found (a start still on its way), not finished yet, or refused.</returns>
    [Function(nameof(PurgeInstances))]
    public async Task<string[]> PurgeInstances([ActivityTrigger] PurgeWork work, [DurableClient] DurableTaskClient client, CancellationToken cancellation)
    {
        var left = new List<string>();
        foreach (string instanceId in work.InstanceIds)
        {
            var found = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellation);
            if (found is null || !await PurgeFinishedAsync(client, found, cancellation))
            {
                left.Add(instanceId);
            }
        }

        foreach (string prefix in work.Prefixes)
        {
            var query = new OrchestrationQuery { InstanceIdPrefix = prefix, FetchInputsAndOutputs = false, PageSize = 100 };
            await foreach (var found in client.GetAllInstancesAsync(query).WithCancellation(cancellation))
            {
                if (work.InstanceIds.Contains(found.InstanceId) || (work.RunsThrough is { } through
                    && SessionIds.RunOrder(SessionIds.RunOfInstance(found.InstanceId)).CompareTo(SessionIds.RunOrder(through)) > 0))
                {
                    continue;
                }

                if (!await PurgeFinishedAsync(client, found, cancellation))
                {
                    left.Add(found.InstanceId);
                }
            }
        }

        return [.. left];
    }

    /// <returns>Whether it was finished and is purged now.</returns>
    static async Task<bool> PurgeFinishedAsync(DurableTaskClient client, OrchestrationMetadata instance, CancellationToken cancellation)
    {
        if (instance.RuntimeStatus is not (OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated))
        {
            return false;
        }

        try
        {
            return (await client.PurgeInstanceAsync(instance.InstanceId, cancellation)).PurgedInstanceCount > 0;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Refused or failed: it is tried again after the linger.
            return false;
        }
    }

    /// <summary>
    /// Purges a forgotten session's entity row (it stays in the instances table with no state) when the session holds
    /// nothing and its row has been untouched for <see cref="QuietBeforePurge"/>; a session used again is left alone.
    /// As the platform's own cleaning of empty entities does, it reads the row first and purges it after.
    /// </summary>
    /// <returns>Whether the row was purged.</returns>
    [Function(nameof(PurgeEmptySession))]
    public async Task<bool> PurgeEmptySession([ActivityTrigger] string sessionKey, [DurableClient] DurableTaskClient client, CancellationToken cancellation)
    {
        var id = SessionEntityIds.For(sessionKey);
        if (await client.Entities.GetEntityAsync<ChatSessionState>(id, includeState: false, cancellation) is not null)
        {
            return false;
        }

        var row = await client.GetInstanceAsync(id.ToString(), getInputsAndOutputs: false, cancellation);
        if (row is null || (clock ?? TimeProvider.System).GetUtcNow() - row.LastUpdatedAt < QuietBeforePurge)
        {
            return false;
        }

        return (await client.PurgeInstanceAsync(id.ToString(), cancellation)).PurgedInstanceCount > 0;
    }

    /// <summary>
    /// Starts the sweep of a finished deletion's instance, by a client start under an id of its own: a repeated start
    /// (this activity runs at least once) is refused as a duplicate, and the sweep already under way goes on.
    /// </summary>
    [Function(nameof(StartSweep))]
    public async Task<string> StartSweep([ActivityTrigger] InstanceSweep sweep, [DurableClient] DurableTaskClient client, CancellationToken cancellation)
    {
        string instanceId = SweepInstance.InstanceIdFor(sweep.Purge.InstanceIds.Single());
        try
        {
            return await client.ScheduleNewOrchestrationInstanceAsync(nameof(SweepInstance), sweep, new StartOrchestrationOptions(instanceId), cancellation);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Refused as a duplicate: the sweep is there. Anything else fails the activity, which is retried.
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellation) is null)
            {
                throw;
            }

            return instanceId;
        }
    }
}
