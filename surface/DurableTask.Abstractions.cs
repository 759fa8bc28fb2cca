// Microsoft.DurableTask.Abstractions 1.25.0
// Read from microsoft/durabletask-dotnet (tag v1.25.0): src/Abstractions/
// TaskName.cs, TaskOptions.cs (TaskOptions, StartOrchestrationOptions), TaskRetryOptions.cs, RetryHandler.cs
// (AsyncRetryHandler), RetryContext.cs, TaskFailureDetails.cs, TaskFailedException.cs, TaskOrchestrationContext.cs,
// AsyncPageable.cs, Page.cs, Internal/IOrchestrationSubmitter.cs.
using FunctionsChat.Surface;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;

namespace Microsoft.DurableTask
{
    public readonly struct TaskName : IEquatable<TaskName>
    {
        internal TaskName(string name)
        {
            Name = name;
        }

        public string Name { get; }

        public static implicit operator TaskName(string value) => string.IsNullOrEmpty(value) ? default : new(value);

        public bool Equals(TaskName other) => string.Equals(Name, other.Name, StringComparison.OrdinalIgnoreCase);

        public override bool Equals(object? obj) => obj is TaskName other && Equals(other);

        public override int GetHashCode() => StringComparer.OrdinalIgnoreCase.GetHashCode(Name ?? "");

        public override string ToString() => Name;
    }

    public record TaskOptions
    {
        public TaskOptions(TaskRetryOptions? retry)
        {
            Retry = retry;
        }

        public TaskOptions(TaskOptions options)
        {
            Retry = options.Retry;
        }

        public TaskRetryOptions? Retry { get; init; }
    }

    public record StartOrchestrationOptions
    {
#pragma warning disable IDE1006 // The real parameter names are PascalCase, from an earlier positional record.
        public StartOrchestrationOptions(string? InstanceId = null, DateTimeOffset? StartAt = null)
#pragma warning restore IDE1006
        {
            this.InstanceId = InstanceId;
            this.StartAt = StartAt;
        }

        public StartOrchestrationOptions(StartOrchestrationOptions options)
        {
            InstanceId = options.InstanceId;
            StartAt = options.StartAt;
        }

        public string? InstanceId { get; init; }

        public DateTimeOffset? StartAt { get; init; }
    }

    public sealed class TaskRetryOptions
    {
        public TaskRetryOptions(AsyncRetryHandler handler)
        {
            Handler = handler;
        }

        public AsyncRetryHandler? Handler { get; }
    }

    public delegate Task<bool> AsyncRetryHandler(RetryContext retryContext);

    public record RetryContext(
        TaskOrchestrationContext OrchestrationContext,
        int LastAttemptNumber,
        TaskFailureDetails LastFailure,
        TimeSpan TotalRetryTime,
        CancellationToken CancellationToken);

    public record TaskFailureDetails(
        string ErrorType,
        string ErrorMessage,
        string? StackTrace,
        TaskFailureDetails? InnerFailure,
        IDictionary<string, object?>? Properties);

    public sealed class TaskFailedException : Exception
    {
        public TaskFailedException(string taskName, int taskId, TaskFailureDetails failureDetails)
            : base($"Task '{taskName}' (#{taskId}) failed with an unhandled exception: {failureDetails.ErrorMessage}")
        {
            FailureDetails = failureDetails;
        }

        public TaskFailureDetails FailureDetails { get; }
    }

    public abstract class TaskOrchestrationContext
    {
        public abstract DateTime CurrentUtcDateTime { get; }

        public abstract bool IsReplaying { get; }

        public virtual TaskOrchestrationEntityFeature Entities => throw SurfaceOnly.Fail();

        public abstract T GetInput<T>();

        public abstract Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null);

        public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

        public virtual ILogger CreateReplaySafeLogger(Type type) => throw SurfaceOnly.Fail();
    }

    public abstract class AsyncPageable<T> : IAsyncEnumerable<T>
        where T : notnull
    {
        public abstract IAsyncEnumerable<Page<T>> AsPages(string? continuationToken = null, int? pageSizeHint = null);

        public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => throw SurfaceOnly.Fail();
    }

    public sealed class Page<T>
        where T : notnull
    {
        public Page(IReadOnlyList<T> values, string? continuationToken = null)
        {
            Values = values;
            ContinuationToken = continuationToken;
        }

        public IReadOnlyList<T> Values { get; }

        public string? ContinuationToken { get; }
    }
}

namespace Microsoft.DurableTask.Internal
{
    public interface IOrchestrationSubmitter
    {
        Task<string> ScheduleNewOrchestrationInstanceAsync(
            TaskName orchestratorName,
            object? input = null,
            StartOrchestrationOptions? options = null,
            CancellationToken cancellation = default);
    }
}
