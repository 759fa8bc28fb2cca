using System.Diagnostics;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Telemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;

namespace FunctionsChat.Turns;

/// <summary>
/// One turn: ask the model (a durable, retried step), then tell the session how it went.
/// Orchestrator code: deterministic, no clock but the context's, no I/O but the context's.
/// </summary>
public sealed partial class ChatTurn(ChatTelemetry telemetry)
{
    [Function(nameof(ChatTurn))]
    public async Task<TurnResult> Run([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var turn = context.GetInput<ChatTurnInput>() ?? throw new InvalidOperationException("ChatTurn needs its input.");
        var session = SessionEntityIds.For(turn.SessionKey);
        var logger = context.CreateReplaySafeLogger(typeof(ChatTurn));

        // The execution, replay-safe: its first episode's time, then a GUID the context derives deterministically.
        var request = ReplyRequest.For(turn) with { Execution = ExecutionOf(context) };
        string? warning = null;
        if (turn.SummaryThrough is not null && turn.ArchivedThrough > 0 && !turn.SummaryInModelCall)
        {
            // Only a session with archived turns can have turns that no longer fit: bring its summary up to date first.
            // If that fails for good, the turn is still answered, with the summary it had, and says so.
            try
            {
                var summary = await context.CallActivityAsync<SummaryOutcome>(nameof(SummarizeConversation), request, ModelRetry.Options(turn.Retry.ForSummary()));
                request = request with { SummaryThrough = summary.Through };
            }
            catch (TaskFailedException failed)
            {
                warning = $"{ErrorCodes.SummaryFailed}: {ModelRetry.Describe(failed.FailureDetails).Code}";
                SummaryFailed(logger, turn.SessionKey, turn.TurnId, warning);
            }
        }

        TurnVerdict verdict;
        try
        {
            var reply = await context.CallActivityAsync<ModelReply>(nameof(GenerateReply), request, ModelRetry.Options(turn.Retry));

            // The activity has told the session already (one queue hop sooner); this call makes sure, and gets the verdict.
            var completion = TurnReports.Completion(request, reply, context.CurrentUtcDateTime, warning);
            request = request with { SummaryThrough = completion.SummaryThrough };
            try
            {
                verdict = await context.Entities.CallEntityAsync<TurnVerdict>(session, nameof(ChatSession.Complete), completion);
            }
            catch (EntityOperationFailedException refused)
            {
                // The session threw on the answer (its state and actions rolled back): it is told the turn failed, so it
                // moves on now rather than at the turn timeout. Should that throw too, the expiry still settles the turn.
                ReportRefused(logger, turn.SessionKey, turn.TurnId, refused.FailureDetails.ErrorType);
                verdict = await FailAsync(context, turn, request, new ModelFailure(ErrorCodes.ReportRefused, PayloadBudget.Clip(refused.FailureDetails.ErrorMessage, PayloadBudget.NoteBytes)));
            }

            if (verdict.Status == TurnStatus.Completed)
            {
                TurnCompleted(logger, turn.SessionKey, turn.TurnId, reply.Usage.InputTokens, reply.Usage.OutputTokens);
            }
        }
        catch (TaskFailedException failed)
        {
            var failure = ModelRetry.Describe(failed.FailureDetails);
            verdict = await FailAsync(context, turn, request, failure);
            if (verdict.Status == TurnStatus.Failed)
            {
                TurnFailed(logger, turn.SessionKey, turn.TurnId, failure.Code);
            }
        }

        if (verdict.Status is not (TurnStatus.Completed or TurnStatus.Failed) || verdict.ErrorCode == ErrorCodes.TurnExpired)
        {
            // The session had already settled the turn (cancelled, expired, deleted): its verdict stands, not ours.
            TurnSuperseded(logger, turn.SessionKey, turn.TurnId, verdict.Status?.ToString() ?? "gone");
        }

        return Finish(context, turn, new TurnResult(turn.TurnId, verdict.Status, ErrorCode: verdict.ErrorCode));
    }

    /// <summary>Tells the session the turn failed, and returns what the session recorded.</summary>
    /// <summary>This execution of the orchestration, as <see cref="ReplyRequest.Execution"/> names it.</summary>
    static string ExecutionOf(TaskOrchestrationContext context) =>
        $"{context.CurrentUtcDateTime.Ticks.ToString("D19", System.Globalization.CultureInfo.InvariantCulture)}{context.NewGuid():N}";

    static Task<TurnVerdict> FailAsync(TaskOrchestrationContext context, ChatTurnInput turn, ReplyRequest request, ModelFailure failure) =>
        context.Entities.CallEntityAsync<TurnVerdict>(
            SessionEntityIds.For(turn.SessionKey),
            nameof(ChatSession.Fail),
            new TurnFailure(turn.TurnId, failure.Code, failure.Message, context.CurrentUtcDateTime) { Run = turn.Run, MessageHash = turn.MessageHash, SummaryThrough = request.SummaryThrough });

    /// <summary>
    /// Records the turn's span, start to end, once: only when the code runs for real, not when it is replayed.
    /// </summary>
    TurnResult Finish(TaskOrchestrationContext context, ChatTurnInput turn, TurnResult result)
    {
        if (context.IsReplaying)
        {
            return result;
        }

        var end = context.CurrentUtcDateTime;
        string status = result.Status?.ToString().ToLowerInvariant() ?? "gone";
        using (var span = ChatTelemetry.Start(nameof(ChatTurn), ActivityKind.Internal, turn.TraceParent, turn.SessionId, turn.TurnId, turn.StartedAt))
        {
            span?.SetTag("chat.turn.status", status);
            if (result.ErrorCode is { } code)
            {
                ChatTelemetry.Fail(span, code, null);
            }

            span?.SetEndTime(end);
        }

        telemetry.TurnDuration(end - turn.StartedAt.UtcDateTime, status);
        return result;
    }

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "Turn {TurnId} of session {SessionKey} could not report its answer: the session threw {ErrorType}")]
    static partial void ReportRefused(ILogger logger, string sessionKey, string turnId, string errorType);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Turn {TurnId} of session {SessionKey} is answered without an up-to-date summary: {Warning}")]
    static partial void SummaryFailed(ILogger logger, string sessionKey, string turnId, string warning);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Turn {TurnId} of session {SessionKey} completed ({InputTokens} input, {OutputTokens} output tokens)")]
    static partial void TurnCompleted(ILogger logger, string sessionKey, string turnId, long inputTokens, long outputTokens);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Turn {TurnId} of session {SessionKey} failed: {ErrorCode}")]
    static partial void TurnFailed(ILogger logger, string sessionKey, string turnId, string errorCode);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Turn {TurnId} of session {SessionKey} was already settled by the session: {Verdict}")]
    static partial void TurnSuperseded(ILogger logger, string sessionKey, string turnId, string verdict);
}
