// Microsoft.DurableTask.Abstractions 1.25.0, namespace Microsoft.DurableTask.Entities
// Read from microsoft/durabletask-dotnet (tag v1.25.0): src/Abstractions/Entities/
// EntityInstanceId.cs, ITaskEntity (TaskEntity.cs), TaskEntity.cs, TaskEntityContext.cs, TaskEntityOperation.cs,
// SignalEntityOptions and CallEntityOptions (EntityOptions.cs), TaskOrchestrationEntityFeature.cs.
using FunctionsChat.Surface;

namespace Microsoft.DurableTask.Entities
{
    public readonly record struct EntityInstanceId
    {
        public EntityInstanceId(string name, string key)
        {
            // Entity names are case-insensitive and stored lower-case, as the real constructor does.
            Name = name.ToLowerInvariant();
            Key = key;
        }

        public string Name { get; }

        public string Key { get; }

        public override string ToString() => $"@{Name}@{Key}";
    }

    public interface ITaskEntity
    {
        ValueTask<object?> RunAsync(TaskEntityOperation operation);
    }

    public abstract class TaskEntity<TState> : ITaskEntity
    {
        protected TState State
        {
            get => throw SurfaceOnly.Fail();
            set => throw SurfaceOnly.Fail();
        }

        public ValueTask<object?> RunAsync(TaskEntityOperation operation) => throw SurfaceOnly.Fail();

        protected virtual TState InitializeState(TaskEntityOperation entityOperation) => throw SurfaceOnly.Fail();
    }

    public abstract class TaskEntityOperation
    {
    }

    public abstract class TaskEntityContext
    {
        public abstract EntityInstanceId Id { get; }

        public abstract void SignalEntity(EntityInstanceId id, string operationName, object? input = null, SignalEntityOptions? options = null);

        public abstract string ScheduleNewOrchestration(TaskName name, object? input = null, StartOrchestrationOptions? options = null);
    }

    public record SignalEntityOptions
    {
        public DateTimeOffset? SignalTime { get; init; }
    }

    public record CallEntityOptions
    {
        // Public in the real package; nothing here constructs one.
        internal CallEntityOptions()
        {
        }
    }

    public abstract class TaskOrchestrationEntityFeature
    {
        public abstract Task<TResult> CallEntityAsync<TResult>(EntityInstanceId id, string operationName, object? input = null, CallEntityOptions? options = null);

        public abstract Task SignalEntityAsync(EntityInstanceId id, string operationName, object? input = null, SignalEntityOptions? options = null);
    }
}
