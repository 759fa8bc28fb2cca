using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Sessions;

/// <summary>
/// One chat session. The entity runs one operation at a time, so turns queue here and run one after another;
/// each operation applies a domain transition and hands what it decided to <see cref="SessionStep"/>.
/// </summary>
public sealed class ChatSession(IOptions<SessionOptions> options, TimeProvider clock, ChatTelemetry telemetry, ILogger<ChatSession> logger)
    : TaskEntity<ChatSessionState>
{
    SessionLimits Limits => options.Value.Limits;

    DateTimeOffset Now => clock.GetUtcNow();

    string? RunningTrace => State.Active?.Turn.TraceParent;

    public void Enqueue(TurnRequest request, TaskEntityContext context) =>
        State = Run(context, nameof(Enqueue), request.TurnId, request.TraceParent, () => SessionTransitions.Enqueue(State, request, Now, Limits));

    public void Complete(TurnCompletion completion, TaskEntityContext context) =>
        State = Run(context, nameof(Complete), completion.TurnId, RunningTrace, () => SessionTransitions.Complete(State, completion, Now, Limits));

    public void Fail(TurnFailure failure, TaskEntityContext context) =>
        State = Run(context, nameof(Fail), failure.TurnId, RunningTrace, () => SessionTransitions.Fail(State, failure, Now, Limits));

    public void Expire(TurnExpiry expiry, TaskEntityContext context) =>
        State = Run(context, nameof(Expire), expiry.TurnId, RunningTrace, () => SessionTransitions.Expire(State, expiry, Now, Limits));

    public void Cancel(TurnCancellation cancellation, TaskEntityContext context) =>
        State = Run(context, nameof(Cancel), cancellation.TurnId, RunningTrace, () => SessionTransitions.Cancel(State, cancellation, Now, Limits));

    public void ConfirmArchived(ArchiveReport report, TaskEntityContext context) =>
        State = Run(context, nameof(ConfirmArchived), null, null, () => SessionTransitions.ConfirmArchived(State, report, Now, Limits));

    public void ArchiveFailed(ArchiveReport report, TaskEntityContext context) =>
        State = Run(context, nameof(ArchiveFailed), null, null, () => SessionTransitions.ArchiveFailed(State, report));

    public void RetentionCheck(TaskEntityContext context) =>
        State = Run(context, nameof(RetentionCheck), null, null, () => SessionTransitions.RetentionCheck(State, Now, Limits));

    public void Delete(TaskEntityContext context) =>
        State = Run(context, nameof(Delete), null, null, () => SessionTransitions.Delete(State));

    [Function(nameof(ChatSession))]
    public static Task Dispatch([EntityTrigger] TaskEntityDispatcher dispatcher) => dispatcher.DispatchAsync<ChatSession>();

    protected override ChatSessionState InitializeState(TaskEntityOperation entityOperation) => ChatSessionState.Empty;

    // An empty session is stored as no state at all, so a late signal after Delete does not bring it back.
    ChatSessionState Run(TaskEntityContext context, string operation, string? turnId, string? traceParent, Func<Transition> decide) =>
        SessionStep.Operate(context, operation, turnId, traceParent, decide, options.Value.Retry, telemetry, logger) ?? null!;
}
