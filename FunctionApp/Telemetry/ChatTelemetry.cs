using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Telemetry;

/// <summary>
/// The app's spans (one <see cref="ActivitySource"/>) and metrics (one <see cref="Meter"/>). Span and attribute names
/// of the model call follow the OpenTelemetry GenAI semantic conventions; every span carries the session and turn.
/// </summary>
public sealed class ChatTelemetry : IDisposable
{
    public const string Name = "FunctionsChat";
    public const string SessionIdTag = "chat.session_id";
    public const string TurnIdTag = "chat.turn_id";
    public const string ErrorCodeTag = "error.code";

    /// <summary>The caller a use is counted to: their hashed id (the owner part of their session keys), never the id itself.</summary>
    public const string CallerTag = "chat.caller";
    public const string QuotaLimitTag = "chat.quota.limit";

    public static readonly ActivitySource Source = new(Name, "1.0.0");

    readonly Meter meter;
    readonly Counter<long> started;
    readonly Counter<long> completed;
    readonly Counter<long> failed;
    readonly Counter<long> cancelled;
    readonly Counter<long> expired;
    readonly Histogram<int> queueLength;
    readonly Histogram<double> turnDuration;
    readonly Histogram<double> modelDuration;
    readonly Histogram<long> tokens;
    readonly bool callerMetrics;
    readonly Counter<long> callerMessages;
    readonly Counter<long> callerTokens;
    readonly Counter<long> callerRefusals;
    readonly Histogram<double> slotWait;

    public ChatTelemetry(IMeterFactory meters, IOptions<TelemetryOptions> options)
    {
        RecordMessageText = options.Value.RecordMessageText;
        meter = meters.Create(Name, "1.0.0");
        started = meter.CreateCounter<long>("chat.turns.started", "{turn}", "Turns that started running.");
        completed = meter.CreateCounter<long>("chat.turns.completed", "{turn}", "Turns answered by the model.");
        failed = meter.CreateCounter<long>("chat.turns.failed", "{turn}", "Turns that failed, by error.code.");
        cancelled = meter.CreateCounter<long>("chat.turns.cancelled", "{turn}", "Turns cancelled while queued or running.");
        expired = meter.CreateCounter<long>("chat.turns.expired", "{turn}", "Turns that never reported back in time.");
        queueLength = meter.CreateHistogram<int>("chat.queue.length", "{turn}", "Turns waiting in a session, seen when one is enqueued.");
        turnDuration = meter.CreateHistogram<double>("chat.turn.duration", "s", "From a turn's start to its result.");
        modelDuration = meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Duration of one model call attempt.");
        tokens = meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens per model call, by gen_ai.token.type and model.");
        callerMetrics = options.Value.CallerMetrics;
        callerMessages = meter.CreateCounter<long>("chat.caller.messages", "{message}", "Messages accepted, by chat.caller (the caller's hashed id).");
        callerTokens = meter.CreateCounter<long>("chat.caller.tokens", "{token}", "Model tokens charged to the caller's budget, by chat.caller.");
        callerRefusals = meter.CreateCounter<long>("chat.caller.refusals", "{request}", "Requests refused by a fair-use limit, by chat.caller and chat.quota.limit.");
        slotWait = meter.CreateHistogram<double>("chat.caller.slot.wait", "s", "How long a session's next turn waited for one of its caller's running-turn slots, by chat.caller.");
    }

    public bool RecordMessageText { get; }

    public void TurnStarted() => started.Add(1);

    public void TurnCompleted() => completed.Add(1);

    public void TurnFailed(string code) => failed.Add(1, new KeyValuePair<string, object?>(ErrorCodeTag, code));

    public void TurnCancelled() => cancelled.Add(1);

    public void TurnExpired() => expired.Add(1);

    public void QueueLength(int waiting) => queueLength.Record(waiting);

    public void CallerMessage(string caller)
    {
        if (callerMetrics)
        {
            callerMessages.Add(1, Caller(caller));
        }
    }

    public void CallerTokens(string caller, long charged)
    {
        if (callerMetrics)
        {
            callerTokens.Add(charged, Caller(caller));
        }
    }

    public void CallerRefused(string caller, string limit)
    {
        if (callerMetrics)
        {
            callerRefusals.Add(1, Caller(caller), new(QuotaLimitTag, limit));
        }
    }

    public void SlotWait(string caller, TimeSpan waited)
    {
        if (callerMetrics)
        {
            slotWait.Record(Math.Max(0, waited.TotalSeconds), Caller(caller));
        }
    }

    static KeyValuePair<string, object?> Caller(string caller) => new(CallerTag, caller);

    public void TurnDuration(TimeSpan duration, string status) =>
        turnDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("chat.turn.status", status));

    public void ModelCall(TimeSpan duration, string requestModel, string? responseModel, long inputTokens, long outputTokens, string? errorType)
    {
        var operation = new KeyValuePair<string, object?>("gen_ai.operation.name", "chat");
        var model = new KeyValuePair<string, object?>("gen_ai.request.model", requestModel);
        if (errorType is null)
        {
            modelDuration.Record(duration.TotalSeconds, operation, model);
            var response = new KeyValuePair<string, object?>("gen_ai.response.model", responseModel);
            tokens.Record(inputTokens, operation, model, response, new("gen_ai.token.type", "input"));
            tokens.Record(outputTokens, operation, model, response, new("gen_ai.token.type", "output"));
        }
        else
        {
            modelDuration.Record(duration.TotalSeconds, operation, model, new("error.type", errorType));
        }
    }

    /// <summary>Starts a span under the given W3C traceparent (or the current span), tagged with session and turn.</summary>
    public static Activity? Start(string name, ActivityKind kind, string? traceParent, string? sessionId, string? turnId, DateTimeOffset startTime = default)
    {
        ActivityContext parent = default;
        if (traceParent is not null)
        {
            ActivityContext.TryParse(traceParent, null, out parent);
        }

        var activity = parent == default
            ? Source.StartActivity(name, kind, Activity.Current?.Context ?? default, startTime: startTime)
            : Source.StartActivity(name, kind, parent, startTime: startTime);
        activity?.SetTag(SessionIdTag, sessionId);
        activity?.SetTag(TurnIdTag, turnId);
        return activity;
    }

    /// <summary>The W3C traceparent of the current span, for a message that crosses a durable boundary.</summary>
    public static string? CurrentTraceParent() => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    public static void Fail(Activity? activity, string code, string? message)
    {
        activity?.SetStatus(ActivityStatusCode.Error, message);
        activity?.SetTag(ErrorCodeTag, code);
    }

    public void Dispose() => meter.Dispose();
}
