using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Entities;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.DurableTask.Entities;
using CoreEntityQuery = DurableTask.Core.Entities.EntityBackendQueries.EntityQuery;
using CoreMetadata = DurableTask.Core.Entities.EntityBackendQueries.EntityMetadata;
using EntityQuery = Microsoft.DurableTask.Client.Entities.EntityQuery;
using EntityMetadata = Microsoft.DurableTask.Client.Entities.EntityMetadata;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// The Durable entity client over the Azure Storage backend itself, with no gRPC hop: a signal is the message the
/// backend's client helpers emit, sent to the entity's control queue; reads and queries are the backend's own entity
/// queries, which return the state as the worker's serializer stored it.
/// </summary>
sealed class CoreEntityClient(AzureStorageOrchestrationService service, DataConverter converter) : DurableEntityClient("core")
{
    readonly IEntityOrchestrationService entities = service;

    EntityBackendQueries Queries => entities.EntityBackendQueries ?? throw new NotSupportedException("The backend has no entity queries.");

    public override async Task SignalEntityAsync(EntityInstanceId id, string operationName, object? input = null, SignalEntityOptions? options = null, CancellationToken cancellation = default)
    {
        var maxDelay = entities.EntityBackendProperties!.MaximumSignalDelayTime;
        var signal = ClientEntityHelpers.EmitOperationSignal(
            new OrchestrationInstance { InstanceId = id.ToString() },
            Guid.NewGuid(),
            operationName,
            converter.Serialize(input),
            EntityMessageEvent.GetCappedScheduledTime(DateTime.UtcNow, maxDelay, options?.SignalTime?.UtcDateTime));
        await service.SendTaskOrchestrationMessageAsync(signal.AsTaskMessage());
    }

    public override async Task<EntityMetadata?> GetEntityAsync(EntityInstanceId id, bool includeState = true, CancellationToken cancellation = default) =>
        await Queries.GetEntityAsync(new EntityId(id.Name, id.Key), includeState, includeStateless: false, cancellation) is { } found ? Untyped(found, includeState) : null;

    public override async Task<EntityMetadata<T>?> GetEntityAsync<T>(EntityInstanceId id, bool includeState = true, CancellationToken cancellation = default) =>
        await Queries.GetEntityAsync(new EntityId(id.Name, id.Key), includeState, includeStateless: false, cancellation) is { } found ? Typed<T>(found, includeState) : null;

    public override AsyncPageable<EntityMetadata> GetAllEntitiesAsync(EntityQuery? filter = null) =>
        Query(filter, found => Untyped(found, filter?.IncludeState != false));

    public override AsyncPageable<EntityMetadata<T>> GetAllEntitiesAsync<T>(EntityQuery? filter = null) =>
        Query(filter, found => Typed<T>(found, filter?.IncludeState != false));

    public override async Task<CleanEntityStorageResult> CleanEntityStorageAsync(CleanEntityStorageRequest? request = null, bool continueUntilComplete = true, CancellationToken cancellation = default)
    {
        var asked = request ?? CleanEntityStorageRequest.Default;
        int removed = 0, released = 0;
        string? token = asked.ContinuationToken;
        do
        {
            var result = await Queries.CleanEntityStorageAsync(
                new EntityBackendQueries.CleanEntityStorageRequest { RemoveEmptyEntities = asked.RemoveEmptyEntities, ReleaseOrphanedLocks = asked.ReleaseOrphanedLocks, ContinuationToken = token },
                cancellation);
            removed += result.EmptyEntitiesRemoved;
            released += result.OrphanedLocksReleased;
            token = result.ContinuationToken;
        }
        while (continueUntilComplete && token is not null);

        return new CleanEntityStorageResult { EmptyEntitiesRemoved = removed, OrphanedLocksReleased = released, ContinuationToken = token };
    }

    AsyncPageable<TMetadata> Query<TMetadata>(EntityQuery? filter, Func<CoreMetadata, TMetadata> map)
        where TMetadata : notnull =>
        Pageable.Create(async (string? token, int? pageSize, CancellationToken cancellation) =>
        {
            var page = await Queries.QueryEntitiesAsync(
                new CoreEntityQuery
                {
                    InstanceIdStartsWith = filter?.InstanceIdStartsWith,
                    LastModifiedFrom = filter?.LastModifiedFrom?.UtcDateTime,
                    LastModifiedTo = filter?.LastModifiedTo?.UtcDateTime,
                    IncludeState = filter?.IncludeState ?? true,
                    IncludeTransient = filter?.IncludeTransient ?? false,
                    PageSize = pageSize ?? filter?.PageSize,
                    ContinuationToken = token ?? filter?.ContinuationToken,
                },
                cancellation);
            return new Page<TMetadata>(page.Results.Select(map).ToList(), page.ContinuationToken);
        });

    EntityMetadata Untyped(CoreMetadata found, bool includeState) =>
        new(IdOf(found), includeState && found.SerializedState is { } state ? new SerializedData(state, converter) : null)
        {
            LastModifiedTime = found.LastModifiedTime,
            BacklogQueueSize = found.BacklogQueueSize,
            LockedBy = found.LockedBy,
        };

    EntityMetadata<T> Typed<T>(CoreMetadata found, bool includeState) =>
        new(IdOf(found), includeState && found.SerializedState is { } state ? converter.Deserialize<T>(state) : default)
        {
            LastModifiedTime = found.LastModifiedTime,
            BacklogQueueSize = found.BacklogQueueSize,
            LockedBy = found.LockedBy,
        };

    static EntityInstanceId IdOf(CoreMetadata found) => new(found.EntityId.Name, found.EntityId.Key);
}
