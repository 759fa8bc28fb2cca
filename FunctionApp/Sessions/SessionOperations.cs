using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Sessions;

/// <summary>What one entity operation leaves behind: the state to store (null: none) and, for a turn's report, the verdict.</summary>
public sealed record SessionOutcome(ChatSessionState? State, TurnVerdict? Verdict)
{
    /// <summary>The answer of an operation that only reads.</summary>
    public bool? Answer { get; init; }
}

/// <summary>
/// The session's operations over a given state and entity context, one domain transition each, carried out by
/// <see cref="SessionStep"/>. <see cref="ChatSession"/> calls these with its stored state; being plain methods, they
/// run the same under any host that dispatches operations by name.
/// </summary>
public sealed class SessionOperations(IOptions<SessionOptions> options, TimeProvider clock, ChatTelemetry telemetry, ILogger<ChatSession> logger, IOptions<FunctionsChat.Quota.QuotaOptions>? quota = null)
{
    SessionLimits Limits => options.Value.Limits with { CallerSlots = quota?.Value.RunningTurns > 0 };

    DateTimeOffset Now => clock.GetUtcNow();

    public SessionOutcome Enqueue(ChatSessionState state, TurnRequest request, TaskEntityContext context) =>
        Run(context, nameof(Enqueue), request.TurnId, request.TraceParent, () => SessionTransitions.Enqueue(state, request, Now, Limits));

    public SessionOutcome Complete(ChatSessionState state, TurnCompletion completion, TaskEntityContext context) =>
        Run(context, nameof(Complete), completion.TurnId, Trace(state), () => SessionTransitions.Complete(state, completion, Now, Limits));

    public SessionOutcome Fail(ChatSessionState state, TurnFailure failure, TaskEntityContext context) =>
        Run(context, nameof(Fail), failure.TurnId, Trace(state), () => SessionTransitions.Fail(state, failure, Now, Limits));

    public SessionOutcome Expire(ChatSessionState state, TurnExpiry expiry, TaskEntityContext context) =>
        Run(context, nameof(Expire), state.Active?.Turn.TurnId, Trace(state), () => SessionTransitions.Expire(state, expiry, Now, Limits));

    public SessionOutcome Cancel(ChatSessionState state, TurnCancellation cancellation, TaskEntityContext context) =>
        Run(context, nameof(Cancel), cancellation.TurnId, Trace(state), () => SessionTransitions.Cancel(state, cancellation, Now, Limits));

    public SessionOutcome ConfirmArchived(ChatSessionState state, ArchiveReport report, TaskEntityContext context) =>
        Run(context, nameof(ConfirmArchived), null, null, () => SessionTransitions.ConfirmArchived(state, report, Now, Limits));

    public SessionOutcome ArchiveFailed(ChatSessionState state, ArchiveReport report, TaskEntityContext context) =>
        Run(context, nameof(ArchiveFailed), null, null, () => SessionTransitions.ArchiveFailed(state, report, Now, Limits));

    public SessionOutcome RetentionCheck(ChatSessionState state, RetentionDue? due, TaskEntityContext context) =>
        Run(context, nameof(RetentionCheck), null, null, () => SessionTransitions.RetentionCheck(state, due, Now, Limits));

    public SessionOutcome Delete(ChatSessionState state, SessionDeletion? deletion, TaskEntityContext context) =>
        Run(context, nameof(Delete), null, null, () => SessionTransitions.Delete(state, deletion, Now, Limits));

    /// <summary>Whether the saved state says the lives an erasure takes were deleted. Reads only: an absent session stays absent.</summary>
    public SessionOutcome Erasable(ChatSessionState state, Erasure erasure, TaskEntityContext context) =>
        new(state.IsVoid ? null : state, null) { Answer = SessionQueries.Erasable(state, erasure) };

    public SessionOutcome Adopt(ChatSessionState state, ForkSeed seed, TaskEntityContext context) =>
        Run(context, nameof(Adopt), null, null, () => SessionTransitions.Adopt(state, seed, Now, Limits));

    public SessionOutcome Granted(ChatSessionState state, SlotGrant grant, TaskEntityContext context) =>
        Run(context, nameof(Granted), null, null, () => SessionTransitions.Granted(state, grant, Now, Limits));

    public SessionOutcome SlotCheck(ChatSessionState state, SlotGrant check, TaskEntityContext context) =>
        Run(context, nameof(SlotCheck), null, null, () => SessionTransitions.SlotCheck(state, check, Now, Limits));

    public SessionOutcome SwitchBranch(ChatSessionState state, BranchSwitch to, TaskEntityContext context) =>
        Run(context, nameof(SwitchBranch), null, null, () => SessionTransitions.SwitchBranch(state, to, Now, Limits));

    static string? Trace(ChatSessionState state) => state.Active?.Turn.TraceParent;

    SessionOutcome Run(TaskEntityContext context, string operation, string? turnId, string? traceParent, Func<Transition> decide) =>
        SessionStep.Operate(context, operation, turnId, traceParent, decide, options.Value.Retry, telemetry, logger);
}
