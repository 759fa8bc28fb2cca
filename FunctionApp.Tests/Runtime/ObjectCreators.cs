using DurableTask.Core;
using DurableTask.Core.Entities;
using DurableTask.Core.Entities.OperationFormat;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.DurableTask.Worker.Shims;
using CoreTaskEntity = DurableTask.Core.Entities.TaskEntity;

namespace FunctionsChat.Tests.Runtime;

/// <summary>A name the runtime looks up, and a new object for every work item (the shims hold per-execution state).</summary>
sealed class NewEach<T> : ObjectCreator<T>
{
    readonly Func<T> create;

    public NewEach(string name, Func<T> create)
    {
        Name = name;
        Version = "";
        this.create = create;
    }

    public override T Create() => create();
}

/// <summary>
/// An entity class for DurableTask.Core, which asks for one by name only: each batch gets the shim for the entity it is
/// addressed to, over a new instance of the app's <see cref="ITaskEntity"/>, as the worker's dispatcher does.
/// </summary>
sealed class EntityPerBatch(DurableTaskShimFactory shims, Func<ITaskEntity> create) : CoreTaskEntity
{
    public override Task<EntityBatchResult> ExecuteOperationBatchAsync(EntityBatchRequest operations)
    {
        var id = EntityId.FromString(operations.InstanceId!);
        RuntimeCounters.Count(RuntimeCounters.EntityBatches);
        return shims.CreateEntity(new TaskName(id.Name), create(), id).ExecuteOperationBatchAsync(operations);
    }
}
