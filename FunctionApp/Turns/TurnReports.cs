using FunctionsChat.Domain;

namespace FunctionsChat.Turns;

/// <summary>What a turn tells its session about its answer: one shape, whether the orchestration or the model activity sends it.</summary>
public static class TurnReports
{
    /// <summary>The report of an answer (or of what the model had said when the session stopped the turn).</summary>
    public static TurnCompletion Completion(ReplyRequest request, ModelReply reply, DateTimeOffset completedAt, string? warning) =>
        new(request.TurnId, reply.Text, reply.Model, reply.Usage, completedAt)
        {
            Run = request.Run,
            MessageHash = request.MessageHash,
            Truncated = reply.FinishReason == ModelReply.CutShort,
            Stopped = reply.Stopped,
            AnswerRef = reply.TextRef,
            Attempt = reply.Attempt,
            SummaryThrough = reply.SummaryThrough ?? request.SummaryThrough,
            Warning = warning ?? reply.Warning,
        };
}
