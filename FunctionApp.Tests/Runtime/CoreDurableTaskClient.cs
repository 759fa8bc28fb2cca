using DurableTask.AzureStorage;
using DurableTask.AzureStorage.Tracking;
using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Entities;
using CoreStatus = DurableTask.Core.OrchestrationStatus;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// The smallest <see cref="DurableTaskClient"/> over the Azure Storage backend itself (no served package provides one
/// for DurableTask.Core): start, status, terminate, purge and the entity client. Where the Functions host adds a rule
/// of its own (terminating only what runs), this client keeps it; everything else is the backend's behaviour.
/// </summary>
public sealed class CoreDurableTaskClient(AzureStorageOrchestrationService service, DataConverter converter) : DurableTaskClient("core")
{
    static readonly CoreStatus[] Running = [CoreStatus.Running, CoreStatus.Pending, CoreStatus.Suspended];

    public override DurableEntityClient Entities { get; } = new CoreEntityClient(service, converter);

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        var instance = new OrchestrationInstance { InstanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N"), ExecutionId = Guid.NewGuid().ToString("N") };
        var started = new ExecutionStartedEvent(-1, converter.Serialize(input))
        {
            Name = orchestratorName.Name,
            Version = "",
            OrchestrationInstance = instance,
            ScheduledStartTime = options?.StartAt?.UtcDateTime,
        };
        // As a client start through the host: one that names a running instance is refused, not replaced.
        await service.CreateTaskOrchestrationAsync(new TaskMessage { OrchestrationInstance = instance, Event = started }, Running);
        return instance.InstanceId;
    }

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        var state = (await service.GetOrchestrationStateAsync(instanceId, allExecutions: false, fetchInput: getInputsAndOutputs)).FirstOrDefault();
        return state is null ? null : Metadata(instanceId, state);
    }

    OrchestrationMetadata Metadata(string instanceId, OrchestrationState state) =>
        new(state.Name, instanceId)
        {
            DataConverter = converter,
            RuntimeStatus = (OrchestrationRuntimeStatus)state.OrchestrationStatus,
            CreatedAt = state.CreatedTime,
            LastUpdatedAt = state.LastUpdatedTime,
            SerializedInput = state.Input,
            SerializedOutput = state.Output,
            SerializedCustomStatus = state.Status,
            FailureDetails = state.FailureDetails is { } failure ? new TaskFailureDetails(failure.ErrorType, failure.ErrorMessage, failure.StackTrace, null, null) : null,
        };

    public override async Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        await PollAsync(instanceId, getInputsAndOutputs, s => s != OrchestrationRuntimeStatus.Pending, cancellation);

    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        await PollAsync(instanceId, getInputsAndOutputs, s => (int)s is not ((int)CoreStatus.Running or (int)CoreStatus.Pending or (int)CoreStatus.Suspended), cancellation);

    /// <summary>The host refuses to terminate an instance that is not running; so does this client.</summary>
    public override async Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var state = (await service.GetOrchestrationStateAsync(instanceId, allExecutions: false, fetchInput: false)).FirstOrDefault();
        if (state is null || !Running.Contains(state.OrchestrationStatus))
        {
            throw new InvalidOperationException($"Cannot terminate orchestration instance {instanceId} in the {state?.OrchestrationStatus.ToString() ?? "missing"} state.");
        }

        await service.ForceTerminateTaskOrchestrationAsync(instanceId, converter.Serialize(options?.Output));
    }

    /// <summary>As the backend does: the instance is deleted whatever its status.</summary>
    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default) =>
        new((await service.PurgeInstanceHistoryAsync(instanceId)).InstancesDeleted);

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        service.SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId },
            Event = new EventRaisedEvent(-1, converter.Serialize(eventPayload)) { Name = eventName },
        });

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) => throw Unused();

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) => throw Unused();

    /// <summary>
    /// As the backend's instance query: ids with the prefix, created in the range, in the statuses, a page at a time
    /// (its continuation token resumes); entities left out, as the client's query does.
    /// </summary>
    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) =>
        Pageable.Create(async (string? continuation, int? pageSize, CancellationToken cancellation) =>
        {
            var condition = new OrchestrationInstanceStatusQueryCondition
            {
                InstanceIdPrefix = filter?.InstanceIdPrefix,
                CreatedTimeFrom = filter?.CreatedFrom?.UtcDateTime ?? default,
                CreatedTimeTo = filter?.CreatedTo?.UtcDateTime ?? default,
                RuntimeStatus = filter?.Statuses?.Select(s => (CoreStatus)s).ToArray(),
                FetchInput = filter?.FetchInputsAndOutputs ?? false,
                FetchOutput = filter?.FetchInputsAndOutputs ?? false,
                ExcludeEntities = true,
            };
            var page = await service.GetOrchestrationStateAsync(condition, pageSize ?? filter?.PageSize ?? OrchestrationQuery.DefaultPageSize, continuation, cancellation);
            var instances = page.OrchestrationState.Select(state => Metadata(state.OrchestrationInstance.InstanceId, state)).ToList();
            return new Page<OrchestrationMetadata>(instances, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        });

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    async Task<OrchestrationMetadata> PollAsync(string instanceId, bool getInputsAndOutputs, Func<OrchestrationRuntimeStatus, bool> done, CancellationToken cancellation)
    {
        while (true)
        {
            if (await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation) is { } found && done(found.RuntimeStatus))
            {
                return found;
            }

            await Task.Delay(50, cancellation);
        }
    }

    static NotSupportedException Unused() => new("The app does not use this; the test client does not offer it.");
}
