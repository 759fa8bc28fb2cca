// Microsoft.DurableTask.Client 1.25.0
// Read from microsoft/durabletask-dotnet (tag v1.25.0): src/Client/Core/DurableTaskClient.cs,
// src/Client/Core/Entities/DurableEntityClient.cs, EntityMetadata.cs, EntityQuery.cs, src/Client/Core/PurgeResult.cs.
using FunctionsChat.Surface;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.DurableTask.Entities;
using Microsoft.DurableTask.Internal;

namespace Microsoft.DurableTask.Client
{
    public abstract class DurableTaskClient : IOrchestrationSubmitter, IAsyncDisposable
    {
        protected DurableTaskClient(string name)
        {
        }

        public virtual DurableEntityClient Entities => throw SurfaceOnly.Fail();

        public abstract Task<string> ScheduleNewOrchestrationInstanceAsync(
            TaskName orchestratorName,
            object? input = null,
            StartOrchestrationOptions? options = null,
            CancellationToken cancellation = default);

        public virtual Task<PurgeResult> PurgeInstanceAsync(string instanceId, CancellationToken cancellation) => throw SurfaceOnly.Fail();

        public virtual Task TerminateInstanceAsync(string instanceId, CancellationToken cancellation) => throw SurfaceOnly.Fail();

        public abstract ValueTask DisposeAsync();
    }

    public class PurgeResult
    {
        public PurgeResult(int count)
        {
            PurgedInstanceCount = count;
        }

        public int PurgedInstanceCount { get; }
    }
}

namespace Microsoft.DurableTask.Client.Entities
{
    public abstract class DurableEntityClient
    {
        protected DurableEntityClient(string name)
        {
        }

        public abstract Task SignalEntityAsync(
            EntityInstanceId id,
            string operationName,
            object? input = null,
            SignalEntityOptions? options = null,
            CancellationToken cancellation = default);

        public abstract Task<EntityMetadata<T>?> GetEntityAsync<T>(EntityInstanceId id, bool includeState = true, CancellationToken cancellation = default);

        public abstract AsyncPageable<EntityMetadata<T>> GetAllEntitiesAsync<T>(EntityQuery? filter = null);
    }

    public class EntityMetadata<TState>
    {
        readonly TState? state;

        public EntityMetadata(EntityInstanceId id, TState? state)
        {
            this.state = state;
            IncludesState = state is not null;
        }

        public bool IncludesState { get; }

        public TState State => IncludesState ? state! : throw new InvalidOperationException($"Cannot retrieve state when {nameof(IncludesState)}=false");
    }

    public record EntityQuery
    {
        public string? InstanceIdStartsWith { get; init; }

        public bool IncludeState { get; init; } = true;

        public int? PageSize { get; init; }

        public string? ContinuationToken { get; init; }
    }
}
