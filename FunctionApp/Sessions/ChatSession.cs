using FunctionsChat.Domain;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Entities;

namespace FunctionsChat.Sessions;

/// <summary>
/// One chat session. The entity runs one operation at a time, so turns queue here and run one after another;
/// each operation is one of <see cref="SessionOperations"/> over the stored state.
/// </summary>
public sealed class ChatSession(SessionOperations operations) : TaskEntity<ChatSessionState>
{
    public void Enqueue(TurnRequest request, TaskEntityContext context) => Keep(operations.Enqueue(State, request, context));

    public TurnVerdict Complete(TurnCompletion completion, TaskEntityContext context) => Keep(operations.Complete(State, completion, context))!;

    public TurnVerdict Fail(TurnFailure failure, TaskEntityContext context) => Keep(operations.Fail(State, failure, context))!;

    public void Expire(TurnExpiry expiry, TaskEntityContext context) => Keep(operations.Expire(State, expiry, context));

    public void Cancel(TurnCancellation cancellation, TaskEntityContext context) => Keep(operations.Cancel(State, cancellation, context));

    public void ConfirmArchived(ArchiveReport report, TaskEntityContext context) => Keep(operations.ConfirmArchived(State, report, context));

    public void ArchiveFailed(ArchiveReport report, TaskEntityContext context) => Keep(operations.ArchiveFailed(State, report, context));

    public void RetentionCheck(RetentionDue? due, TaskEntityContext context) => Keep(operations.RetentionCheck(State, due, context));

    public void Delete(SessionDeletion? deletion, TaskEntityContext context) => Keep(operations.Delete(State, deletion, context));

    public void SwitchBranch(BranchSwitch to, TaskEntityContext context) => Keep(operations.SwitchBranch(State, to, context));

    public void Adopt(ForkSeed seed, TaskEntityContext context) => Keep(operations.Adopt(State, seed, context));

    public void Granted(SlotGrant grant, TaskEntityContext context) => Keep(operations.Granted(State, grant, context));

    public void SlotCheck(SlotGrant check, TaskEntityContext context) => Keep(operations.SlotCheck(State, check, context));

    public bool Erasable(Erasure erasure, TaskEntityContext context) => Answer(operations.Erasable(State, erasure, context));

    [Function(nameof(ChatSession))]
    public static Task Dispatch([EntityTrigger] TaskEntityDispatcher dispatcher) => dispatcher.DispatchAsync<ChatSession>();

    protected override ChatSessionState InitializeState(TaskEntityOperation entityOperation) => ChatSessionState.Empty;

    // A session with nothing worth keeping is stored as no state at all.
    TurnVerdict? Keep(SessionOutcome outcome)
    {
        State = outcome.State!;
        return outcome.Verdict;
    }

    bool Answer(SessionOutcome outcome)
    {
        State = outcome.State!;
        return outcome.Answer == true;
    }
}
