using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Turns;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;

namespace FunctionsChat.Sessions;

/// <summary>Carries out a session transition's decisions through the entity's context.</summary>
public static partial class SessionStep
{
    /// <returns>The state to store, or null to store none.</returns>
    public static ChatSessionState? Carry(TaskEntityContext context, Transition transition, RetrySchedule retry, ILogger logger)
    {
        string sessionKey = context.Id.Key;
        if (transition.Start is { } start)
        {
            var input = new ChatTurnInput(sessionKey, start.SessionId, start.TurnId, start.Message, start.History, retry);
            context.ScheduleNewOrchestration(
                nameof(ChatTurn),
                input,
                new StartOrchestrationOptions(SessionIds.TurnInstanceId(sessionKey, start.TurnId)));

            // If the turn never reports back (terminated, lost), this signal fails it and frees the session.
            context.SignalEntity(
                context.Id,
                nameof(ChatSession.Expire),
                new TurnExpiry(start.TurnId),
                new SignalEntityOptions { SignalTime = start.ExpiresAt });
            TurnStarted(logger, sessionKey, start.TurnId, start.Sequence, start.History.Count);
        }

        if (transition.Archive is { } archive)
        {
            context.ScheduleNewOrchestration(
                nameof(ArchiveTurns),
                new ArchiveInput(sessionKey, archive.BatchId, archive.ThroughSequence, archive.Turns, retry),
                new StartOrchestrationOptions($"chatarchive:{sessionKey}:{archive.BatchId}"));
            ArchiveStarted(logger, sessionKey, archive.Turns.Count, archive.ThroughSequence);
        }

        if (transition.DeleteArchive)
        {
            context.ScheduleNewOrchestration(nameof(DeleteArchive), new ArchiveDeletion(sessionKey, retry));
        }

        if (transition.RetentionCheckAt is { } checkAt)
        {
            // Each accepted turn schedules its own check; only the one after the last turn finds the session idle.
            context.SignalEntity(context.Id, nameof(ChatSession.RetentionCheck), null, new SignalEntityOptions { SignalTime = checkAt });
        }

        if (transition.Note is not (TransitionNote.Applied or TransitionNote.Deleted or TransitionNote.Kept))
        {
            TransitionSkipped(logger, sessionKey, transition.Note);
        }

        return transition.State.IsEmpty ? null : transition.State;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Session {SessionKey} started turn {TurnId} (sequence {Sequence}, {HistoryCount} messages of history)")]
    static partial void TurnStarted(ILogger logger, string sessionKey, string turnId, long sequence, int historyCount);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Session {SessionKey} left its state unchanged: {Note}")]
    static partial void TransitionSkipped(ILogger logger, string sessionKey, TransitionNote note);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Session {SessionKey} archives {TurnCount} turns through sequence {ThroughSequence}")]
    static partial void ArchiveStarted(ILogger logger, string sessionKey, int turnCount, long throughSequence);
}
