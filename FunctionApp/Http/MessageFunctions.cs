using System.Buffers;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using FunctionsChat.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>Call (enqueue and wait for the answer) and send (enqueue and answer at once).</summary>
public sealed class MessageFunctions(TurnWaiter waiter, IOptions<ApiOptions> options, TimeProvider clock, CallerResolver callers)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    [Function(nameof(CallMessage))]
    public Task<IActionResult> CallMessage(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ChatRoutes.Message)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId) =>
        HttpSpan.TraceAsync(nameof(CallMessage), sessionId, () => CallMessageAsync(request, client, sessionId));

    async Task<IActionResult> CallMessageAsync(
        HttpRequest request,
        DurableTaskClient client,
        string sessionId)
    {
        var (turn, sessionKey, problem) = await AcceptAsync(request, client, sessionId);
        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        TurnView? outcome;
        try
        {
            outcome = await waiter.WaitAsync(c => SessionStore.ReadAsync(client, sessionKey!, c), turn!.TurnId, request.HttpContext.RequestAborted);
        }
        catch (OperationCanceledException) when (request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return new EmptyResult();
        }

        return outcome switch
        {
            { } seen when seen.MessageHash != turn.MessageHash => ApiProblem.IdempotencyKeyReused(turn.TurnId).ToResult(request),
            { Status: TurnStatus.Completed, Finished: { } done } =>
                new OkObjectResult(new AnswerView(sessionId, done.TurnId, done.Answer ?? "", done.Model, done.Usage)),
            { Status: TurnStatus.Failed, Finished: { } failed } =>
                ApiProblem.TurnFailed(failed.TurnId, failed.ErrorCode, failed.ErrorMessage).ToResult(request),
            { Status: TurnStatus.Cancelled } => ApiProblem.TurnCancelled(turn.TurnId).ToResult(request),
            _ => Accepted(sessionId, turn.TurnId),
        };
    }

    [Function(nameof(SendMessage))]
    public Task<IActionResult> SendMessage(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ChatRoutes.Send)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId) =>
        HttpSpan.TraceAsync(nameof(SendMessage), sessionId, () => SendMessageAsync(request, client, sessionId));

    async Task<IActionResult> SendMessageAsync(
        HttpRequest request,
        DurableTaskClient client,
        string sessionId)
    {
        var (turn, _, problem) = await AcceptAsync(request, client, sessionId);
        return problem is not null ? problem.ToResult(request) : Accepted(sessionId, turn!.TurnId);
    }

    static AcceptedResult Accepted(string sessionId, string turnId)
    {
        string url = ChatRoutes.TurnUrl(sessionId, turnId);
        return new AcceptedResult(url, new AcceptedView(sessionId, turnId, url));
    }

    /// <summary>
    /// Checks the request, makes the turn id (the Idempotency-Key, or a new one) and signals the session,
    /// unless the turn is already known: then it is the same turn, or the key was reused for another message.
    /// </summary>
    async Task<(TurnRequest? Turn, string? SessionKey, ApiProblem? Problem)> AcceptAsync(HttpRequest request, DurableTaskClient client, string sessionId)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return (null, null, ApiProblem.InvalidSessionId(sessionId));
        }

        var (sessionKey, denied) = await callers.SessionKeyAsync(request, sessionId);
        if (denied is not null)
        {
            return (null, null, denied);
        }

        string? key = request.Headers[IdempotencyKeyHeader];
        if (key is not null && !SessionIds.IsValid(key))
        {
            return (null, null, ApiProblem.InvalidTurnId(key));
        }

        if (!MessageInput.IsJson(request.ContentType))
        {
            return (null, null, ApiProblem.UnsupportedMediaType(request.ContentType));
        }

        int maxMessageBytes = options.Value.MaxMessageBytes;
        var (message, problem) = await ReadMessageAsync(request, maxMessageBytes);
        if (problem is not null)
        {
            return (null, null, problem);
        }

        var turn = new TurnRequest(sessionId, key ?? Guid.NewGuid().ToString("N"), message!, clock.GetUtcNow())
        {
            TraceParent = ChatTelemetry.CurrentTraceParent(),
        };
        System.Diagnostics.Activity.Current?.SetTag(ChatTelemetry.TurnIdTag, turn.TurnId);
        var cancellation = request.HttpContext.RequestAborted;
        var state = await SessionStore.ReadAsync(client, sessionKey!, cancellation);
        if (state is not null && SessionQueries.FindMessageHash(state, turn.TurnId) is { } knownHash)
        {
            return knownHash == turn.MessageHash ? (turn, sessionKey, null) : (null, null, ApiProblem.IdempotencyKeyReused(turn.TurnId));
        }

        await SessionStore.SignalAsync(client, sessionKey!, nameof(ChatSession.Enqueue), turn, cancellation);
        return (turn, sessionKey, null);
    }

    static async Task<(string? Message, ApiProblem? Problem)> ReadMessageAsync(HttpRequest request, int maxMessageBytes)
    {
        int maxBody = MessageInput.MaxBodyBytes(maxMessageBytes);
        if (request.ContentLength > maxBody)
        {
            return (null, ApiProblem.MessageTooLarge(maxMessageBytes));
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(maxBody + 1);
        try
        {
            int length = 0;
            int read;
            while (length <= maxBody
                && (read = await request.Body.ReadAsync(buffer.AsMemory(length, maxBody + 1 - length), request.HttpContext.RequestAborted)) > 0)
            {
                length += read;
            }

            return MessageInput.Parse(buffer.AsSpan(0, length), maxMessageBytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
