using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>
/// How a checked message reaches its session, for a send, a call, a regenerate or an edit alike. It reads the session
/// once and, unless it already knows the turn, judges the message as the session would (<see cref="Admission"/>): a
/// full queue or a busy session under <c>reject</c> is refused at once with nothing stored. Otherwise the message's
/// words and record are stored in one transaction (<see cref="RequestIntake"/>: the first message under a key holds it,
/// a rival learns 422) and the session is signalled. A send the session would take answers 202 then: its record answers
/// its Location until the signal lands. A call, and a request only the session can judge, wait for the session's own
/// word. Signals from a client may arrive late, twice or out of order, so only the session's committed state decides.
/// </summary>
public sealed class MessageAdmission(TurnWaiter waiter, IOptions<SessionOptions> sessions, IOptions<ApiOptions> api, TimeProvider clock, ITranscriptArchive archive, EventResponses events, IOptions<FunctionsChat.Quota.QuotaOptions>? quota = null, FunctionsChat.Telemetry.ChatTelemetry? telemetry = null)
{
    /// <summary>The request's Idempotency-Key (null when it has none), or the problem when it is not a valid turn id.</summary>
    public static (string? Key, ApiProblem? Problem) IdempotencyKey(HttpRequest request)
    {
        string? key = request.Headers[MessageFunctions.IdempotencyKeyHeader];
        return key is not null && !SessionIds.IsValid(key) ? (null, ApiProblem.InvalidTurnId(key)) : (key, null);
    }

    /// <summary>
    /// The request a checked message makes: its turn id (the Idempotency-Key, or a new one), the trace it joins, and
    /// the strategy it named (or the app's default); the request's span is tagged with the turn id.
    /// </summary>
    public TurnRequest NewTurn(string sessionId, string? key, string message, MultitaskStrategy? strategy)
    {
        var turn = TurnRequest.For(sessionId, key ?? Guid.NewGuid().ToString("N"), message, clock.GetUtcNow()) with
        {
            TraceParent = FunctionsChat.Telemetry.ChatTelemetry.CurrentTraceParent(),
            Strategy = strategy ?? api.Value.MultitaskStrategy,
        };
        System.Diagnostics.Activity.Current?.SetTag(FunctionsChat.Telemetry.ChatTelemetry.TurnIdTag, turn.TurnId);
        return turn;
    }

    /// <param name="stream">The event stream reserved for a streamed call (answered with the turn's events once the session holds it).</param>
    public async Task<IActionResult> AdmitAsync(HttpRequest request, DurableTaskClient client, string sessionKey, TurnRequest turn, string message, bool untilFinished, IDisposable? stream)
    {
        var cancellation = request.HttpContext.RequestAborted;
        string sessionId = turn.SessionId;
        Receipt receipt;
        try
        {
            var read = (CancellationToken c) => SessionStore.ReadAsync(client, sessionKey, c);
            bool stored = false;
            // A request already settled (a retry) is not sent again; when the session cannot be read, it is sent: the
            // session takes a key once.
            // The caller's quota is read beside the session, so fair use adds no round trip.
            var limits = quota?.Value.Limits;
            string caller = SessionKeys.OwnerOf(sessionKey);
            var usage = limits is { Any: true } ? FunctionsChat.Quota.QuotaStore.TryReadAsync(client, caller, cancellation) : null;
            var (reached, before) = await SessionStore.TryReadAsync(client, sessionKey, cancellation);
            if (!SessionQueries.ReceiptOf(before, turn).IsSettled)
            {
                if (usage is not null && CallerQuotaRules.Admit(await usage, sessionId, clock.GetUtcNow(), limits!) is { } over
                    && !await RequestIntake.IsHeldAsync(archive, sessionKey, before, turn, cancellation).ConfigureAwait(false))
                {
                    stream?.Dispose();
                    telemetry?.CallerRefused(caller, over.Limit);
                    request.HttpContext.Response.Headers.RetryAfter = Math.Ceiling(over.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    return ApiProblem.QuotaExceeded(over, limits!).ToResult(request);
                }

                var admission = reached ? Admission.Check(before, turn, clock.GetUtcNow(), sessions.Value.Limits) : AdmissionCheck.Undecided;
                if (admission is AdmissionCheck.QueueFull or AdmissionCheck.Busy)
                {
                    stream?.Dispose();
                    var refusal = SessionQueries.Refusal(new ArchivedTurnKey(turn.TurnId, turn.MessageHash) { Busy = admission == AdmissionCheck.Busy });
                    return Answer(request, new Receipt(ReceiptStatus.Refused, refusal), turn, untilFinished);
                }

                // The words are stored before the signal, which carries them inline only when short.
                if (await RequestIntake.StoreAsync(archive, sessionKey, before, turn, message, cancellation) is not { } kept)
                {
                    stream?.Dispose();
                    return Answer(request, new Receipt(ReceiptStatus.Conflict, null), turn, untilFinished);
                }

                if (kept.AcceptedAt == turn.AcceptedAt)
                {
                    telemetry?.CallerMessage(caller);
                }

                turn = kept;
                stored = true;
                // The caller's quota is told of every request signalled, a retry of one the session has not taken yet
                // too (an over-count), and even when the client goes away meanwhile: a count that never lands would
                // let the message past every limit.
                await Task.WhenAll(
                    SessionStore.SignalAsync(client, sessionKey, nameof(ChatSession.Enqueue), turn, cancellation),
                    usage is null ? Task.CompletedTask : FunctionsChat.Quota.QuotaStore.TellAsync(client, caller, nameof(FunctionsChat.Quota.CallerQuota.Accepted), turn.AcceptedAt, CancellationToken.None));
                if (admission == AdmissionCheck.Taken && !untilFinished && stream is null)
                {
                    return Accepted(sessionId, turn.TurnId);
                }
            }

            ChatSessionState? state;
            (receipt, state) = await waiter.WaitAsync(read, sessionKey, turn, untilFinished, cancellation);
            if (untilFinished && receipt is { Status: ReceiptStatus.Taken, Turn: null } && state is not null)
            {
                // Archived right after it finished: its outcome is read from the archive.
                receipt = receipt with { Turn = await SessionStore.FindTurnAsync(archive, sessionKey, state, turn.TurnId, cancellation) };
            }
            else if (untilFinished && receipt.Turn is { } taken)
            {
                receipt = receipt with { Turn = await SessionStore.WithWordsAsync(archive, sessionKey, taken, cancellation) };
            }

            if (stored && receipt.Status is ReceiptStatus.Refused or ReceiptStatus.Dropped)
            {
                // The session will never take these words (any copy of the signal is refused or dropped too): no copy
                // of them stays behind. A conflict is not final for a signal still on its way, which a later life of
                // the session may take; its copy goes with the session.
                await archive.DeleteTextAsync(sessionKey, turn.MessageRef!, cancellation);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            stream?.Dispose();
            return new EmptyResult();
        }
        catch (Exception)
        {
            // The session could not be read or sent to (the Durable client failed or timed out): the message may be on its
            // way, so the caller is told the key to repeat it with, which is never taken twice.
            receipt = new Receipt(ReceiptStatus.Unseen, null);
        }

        if (stream is not null && receipt.Status == ReceiptStatus.Taken)
        {
            request.HttpContext.Response.Headers[MessageFunctions.IdempotencyKeyHeader] = turn.TurnId;
            return events.OpenTurn(request, client, sessionKey, sessionId, turn.TurnId, lastEventId: null, stream);
        }

        stream?.Dispose();
        return Answer(request, receipt, turn, untilFinished);
    }


    static IActionResult Answer(HttpRequest request, Receipt receipt, TurnRequest turn, bool call)
    {
        string sessionId = turn.SessionId;
        switch (receipt.Status)
        {
            case ReceiptStatus.Unseen:
                request.HttpContext.Response.Headers.RetryAfter = "1";
                request.HttpContext.Response.Headers[MessageFunctions.IdempotencyKeyHeader] = turn.TurnId;
                return ApiProblem.NotConfirmed(turn.TurnId).ToResult(request);
            case ReceiptStatus.Conflict:
                return ApiProblem.IdempotencyKeyReused(turn.TurnId).ToResult(request);
            case ReceiptStatus.Dropped:
                return ApiProblem.SessionDeleted(sessionId, turn.TurnId).ToResult(request);
            case ReceiptStatus.Refused:
                return ApiProblem.TurnFailed(turn.TurnId, receipt.Turn?.Finished?.ErrorCode ?? ErrorCodes.QueueFull, receipt.Turn?.Finished?.ErrorMessage).ToResult(request);
        }

        return (call ? receipt.Turn : null) switch
        {
            { Status: TurnStatus.Completed, Finished: { } done } =>
                new OkObjectResult(new AnswerView(sessionId, done.TurnId, done.Answer ?? "", done.Model, done.Usage) { Truncated = done.Truncated, Warning = done.Warning }),
            { Status: TurnStatus.Failed, Finished: { } failed } =>
                ApiProblem.TurnFailed(failed.TurnId, failed.ErrorCode, failed.ErrorMessage).ToResult(request),
            { Status: TurnStatus.Cancelled or TurnStatus.Interrupted or TurnStatus.RolledBack } stopped => ApiProblem.TurnStopped(turn.TurnId, stopped.Status).ToResult(request),
            _ => Accepted(sessionId, turn.TurnId),
        };
    }

    static AcceptedResult Accepted(string sessionId, string turnId)
    {
        string url = ChatRoutes.TurnUrl(sessionId, turnId);
        return new AcceptedResult(url, new AcceptedView(sessionId, turnId, url));
    }

}
