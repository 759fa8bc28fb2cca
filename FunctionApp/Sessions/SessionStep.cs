using System.Diagnostics;
using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Quota;
using FunctionsChat.Telemetry;
using FunctionsChat.Turns;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;

namespace FunctionsChat.Sessions;

/// <summary>Carries out a session transition's decisions through the entity's context.</summary>
public static partial class SessionStep
{
    /// <summary>
    /// One entity operation: decide (a domain transition) and carry it out, inside a span that joins the turn's
    /// trace, with a log scope of session and turn, counting what happened to turns.
    /// </summary>
    public static SessionOutcome Operate(
        TaskEntityContext context,
        string operation,
        string? turnId,
        string? traceParent,
        Func<Transition> decide,
        RetrySchedule retry,
        ChatTelemetry telemetry,
        ILogger logger)
    {
        string sessionId = SessionKeys.SessionIdOf(context.Id.Key);
        using var span = ChatTelemetry.Start($"{nameof(ChatSession)}.{operation}", ActivityKind.Internal, traceParent, sessionId, turnId);
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["SessionId"] = sessionId, ["TurnId"] = turnId });

        var transition = decide();
        span?.SetTag("chat.transition", transition.Note.ToString());
        Count(telemetry, operation, transition);
        if (operation == nameof(ChatSession.Granted) && transition is { Start: { } granted, State.Slot.Ask: { } ask } && CallerSlotRules.AskedAt(ask) is { } askedAt)
        {
            telemetry.SlotWait(SessionKeys.OwnerOf(context.Id.Key), granted.StartedAt - askedAt);
        }
        return new(Carry(context, transition, retry, logger), transition.Verdict);
    }

    static void Count(ChatTelemetry telemetry, string operation, Transition transition)
    {
        if (transition.Start is not null)
        {
            telemetry.TurnStarted();
        }

        switch (operation, transition.Note)
        {
            case (nameof(ChatSession.Enqueue), TransitionNote.Applied):
                telemetry.QueueLength(transition.State.Pending.Count);
                break;
            case (nameof(ChatSession.Enqueue), TransitionNote.QueueFull):
                telemetry.QueueLength(transition.State.Pending.Count);
                telemetry.TurnFailed(ErrorCodes.QueueFull);
                break;
            case (nameof(ChatSession.Enqueue), TransitionNote.Busy):
                telemetry.TurnFailed(ErrorCodes.TurnInProgress);
                break;
            case (nameof(ChatSession.Complete), TransitionNote.Applied):
                telemetry.TurnCompleted();
                break;
            case (nameof(ChatSession.Fail), TransitionNote.Applied):
                telemetry.TurnFailed(transition.Verdict?.ErrorCode ?? ErrorCodes.ActivityFailed);
                break;
            case (nameof(ChatSession.Expire), TransitionNote.Applied):
                telemetry.TurnExpired();
                break;
            case (nameof(ChatSession.Cancel), TransitionNote.Applied):
                telemetry.TurnCancelled();
                break;
        }
    }

    /// <returns>The state to store, or null to store none.</returns>
    public static ChatSessionState? Carry(TaskEntityContext context, Transition transition, RetrySchedule retry, ILogger logger)
    {
        string sessionKey = context.Id.Key;
        if (transition.Start is { } start)
        {
            context.ScheduleNewOrchestration(
                nameof(ChatTurn),
                ChatTurnInput.For(sessionKey, start, retry),
                new StartOrchestrationOptions(SessionIds.TurnInstanceId(sessionKey, start.TurnId, start.Run)));
            TurnStarted(logger, sessionKey, start.TurnId, start.Sequence, start.History.Count);
        }

        if (transition.ExpiryCheckAt is { } expiresAt)
        {
            // If a turn never reports back (terminated, lost), this signal fails it and frees the session.
            context.SignalEntity(
                context.Id,
                nameof(ChatSession.Expire),
                new TurnExpiry(transition.State.Active?.Turn.TurnId ?? "") { At = expiresAt },
                new SignalEntityOptions { SignalTime = expiresAt });
        }

        if (transition.StopCheckAt is { } stopBy)
        {
            // If a turn asked to stop never reports its stopped model call, this signal finishes it after the grace.
            context.SignalEntity(context.Id, nameof(ChatSession.Expire), new TurnExpiry(transition.State.Active?.Turn.TurnId ?? "") { At = stopBy }, new SignalEntityOptions { SignalTime = stopBy });
        }

        if (transition.Archive is { } archive)
        {
            context.ScheduleNewOrchestration(
                nameof(ArchiveTurns),
                ArchiveInput.For(sessionKey, archive, retry),
                new StartOrchestrationOptions(SessionIds.ArchiveInstanceId(sessionKey, archive.BatchId)));
            ArchiveStarted(logger, sessionKey, archive.Turns.Count, archive.ThroughSequence);
        }

        if (transition.DeleteArchive)
        {
            context.ScheduleNewOrchestration(nameof(DeleteArchive), new ArchiveDeletion(sessionKey, retry)
            {
                Purge = PurgeWork.ForDeleted(sessionKey, transition.Purge),
                Erase = transition.Erase ?? Erasure.Of(transition.State),
                Forget = transition.Forget,
            });
        }

        if (transition.RetentionCheckAt is { } checkAt)
        {
            // One retention signal per session at a time; when it finds the deadline moved, it arms itself again.
            context.SignalEntity(context.Id, nameof(ChatSession.RetentionCheck), new RetentionDue(checkAt), new SignalEntityOptions { SignalTime = checkAt });
        }

        var quota = CallerQuota.For(SessionKeys.OwnerOf(sessionKey));
        string sessionId = SessionKeys.SessionIdOf(sessionKey);
        if (transition.AskSlot is { } ask)
        {
            context.SignalEntity(quota, nameof(CallerQuota.Ask), new SlotHolder(sessionId, ask));
            if (transition.SlotCheckAt is { } recheckAt)
            {
                context.SignalEntity(context.Id, nameof(ChatSession.SlotCheck), new SlotGrant(ask), new SignalEntityOptions { SignalTime = recheckAt });
            }
        }

        if (transition.ReleaseSlot is { } release)
        {
            context.SignalEntity(quota, nameof(CallerQuota.Release), new SlotHolder(sessionId, release));
        }

        if (transition.Note is not (TransitionNote.Applied or TransitionNote.Deleted or TransitionNote.Kept or TransitionNote.Rearmed))
        {
            TransitionSkipped(logger, sessionKey, transition.Note);
        }

        return transition.State.IsVoid ? null : transition.State;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Session {SessionKey} started turn {TurnId} (sequence {Sequence}, {HistoryCount} messages of history)")]
    static partial void TurnStarted(ILogger logger, string sessionKey, string turnId, long sequence, int historyCount);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Session {SessionKey} left its state unchanged: {Note}")]
    static partial void TransitionSkipped(ILogger logger, string sessionKey, TransitionNote note);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Session {SessionKey} archives {TurnCount} turns through sequence {ThroughSequence}")]
    static partial void ArchiveStarted(ILogger logger, string sessionKey, int turnCount, long throughSequence);
}
