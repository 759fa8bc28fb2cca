using FunctionsChat.Domain;
using Microsoft.DurableTask;

namespace FunctionsChat.Turns;

/// <summary>
/// The Durable retry of an activity. A retry handler rather than a plain RetryPolicy, because only a handler can
/// honour the service's Retry-After: it waits on a durable timer, then lets the runtime retry.
/// </summary>
public static class ModelRetry
{
    /// <summary>The model call: transient failures only, never sooner than the service asked.</summary>
    public static TaskOptions Options(RetrySchedule schedule) =>
        Retrying((attempt, failure) => schedule.DelayAfter(attempt, ModelFailure.Find(Texts(failure))));

    /// <summary>A storage write or delete: idempotent, so every failure is worth another attempt.</summary>
    public static TaskOptions AnyFailure(RetrySchedule schedule) =>
        Retrying((attempt, _) => schedule.DelayAfterAny(attempt));

    /// <summary>The failure as the session records it: the model failure's code, or a generic one.</summary>
    public static ModelFailure Describe(TaskFailureDetails? details)
    {
        var failure = ModelFailure.Find(Texts(details))
            ?? new ModelFailure(ErrorCodes.ActivityFailed, details?.ErrorMessage ?? "The model activity failed.");

        // It travels to the session in the turn's report, a durable payload: an error body echoed in full would not fit.
        return failure with { Code = PayloadBudget.Clip(failure.Code, PayloadBudget.NoteBytes), Message = PayloadBudget.Clip(failure.Message, PayloadBudget.NoteBytes) };
    }

    static TaskOptions Retrying(Func<int, TaskFailureDetails, TimeSpan?> delayAfter) => new(new TaskRetryOptions(async retry =>
    {
        if (delayAfter(retry.LastAttemptNumber, retry.LastFailure) is not { } delay)
        {
            return false;
        }

        var orchestration = retry.OrchestrationContext;
        await DurableWait.ForAsync(orchestration, delay, retry.CancellationToken);
        return true;
    }));

    static IEnumerable<string?> Texts(TaskFailureDetails? details)
    {
        for (var current = details; current is not null; current = current.InnerFailure)
        {
            yield return current.ErrorMessage;
            yield return current.ErrorType;
        }
    }
}
