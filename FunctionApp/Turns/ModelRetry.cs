using FunctionsChat.Domain;
using Microsoft.DurableTask;

namespace FunctionsChat.Turns;

/// <summary>
/// The Durable retry of the model activity. A retry handler rather than a plain RetryPolicy, because only a
/// handler can honour the service's Retry-After: it waits on a durable timer, then lets the runtime retry.
/// </summary>
public static class ModelRetry
{
    public static TaskOptions Options(RetrySchedule schedule) => new(new TaskRetryOptions(Handler(schedule)));

    public static AsyncRetryHandler Handler(RetrySchedule schedule) => async retry =>
    {
        var failure = ModelFailure.Find(Texts(retry.LastFailure));
        if (schedule.DelayAfter(retry.LastAttemptNumber, failure) is not { } delay)
        {
            return false;
        }

        var orchestration = retry.OrchestrationContext;
        await orchestration.CreateTimer(orchestration.CurrentUtcDateTime + delay, retry.CancellationToken);
        return true;
    };

    /// <summary>The failure as the session records it: the model failure's code, or a generic one.</summary>
    public static ModelFailure Describe(TaskFailureDetails? details) =>
        ModelFailure.Find(Texts(details))
        ?? new ModelFailure(ErrorCodes.ActivityFailed, details?.ErrorMessage ?? "The model activity failed.");

    static IEnumerable<string?> Texts(TaskFailureDetails? details)
    {
        for (var current = details; current is not null; current = current.InnerFailure)
        {
            yield return current.ErrorMessage;
            yield return current.ErrorType;
        }
    }
}
