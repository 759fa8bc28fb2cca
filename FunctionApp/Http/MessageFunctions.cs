using System.Buffers;
using FunctionsChat.Archive;
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
public sealed class MessageFunctions(MessageAdmission admission, IOptions<ApiOptions> options, CallerResolver callers, EventResponses events)
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
        string sessionId) =>
        await AcceptAsync(request, client, sessionId, untilFinished: true);

    [Function(nameof(SendMessage))]
    public Task<IActionResult> SendMessage(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ChatRoutes.Send)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId) =>
        HttpSpan.TraceAsync(nameof(SendMessage), sessionId, () => SendMessageAsync(request, client, sessionId));

    async Task<IActionResult> SendMessageAsync(
        HttpRequest request,
        DurableTaskClient client,
        string sessionId) =>
        await AcceptAsync(request, client, sessionId, untilFinished: false);

    /// <summary>
    /// Checks the request, makes the turn id (the Idempotency-Key, or a new one), reads the session once and, unless it
    /// already knows the turn, judges it as the session would (<see cref="Admission"/>): a full queue or a busy session
    /// under <c>reject</c> is refused at once with nothing stored. Otherwise the request's words and record are stored
    /// in one transaction (<see cref="RequestIntake"/>: the first message under a key holds it, a rival learns 422) and
    /// the session is signalled. A send the session would take answers 202 then: its record answers its Location until
    /// the signal lands. A call, and a request only the session can judge, wait for the session's own word.
    /// </summary>
    async Task<IActionResult> AcceptAsync(HttpRequest request, DurableTaskClient client, string sessionId, bool untilFinished)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return ApiProblem.InvalidSessionId(sessionId).ToResult(request);
        }

        var (sessionKey, denied) = await callers.SessionKeyAsync(request, sessionId);
        if (denied is not null)
        {
            return denied.ToResult(request);
        }

        var (key, badKey) = MessageAdmission.IdempotencyKey(request);
        if (badKey is not null)
        {
            return badKey.ToResult(request);
        }

        if (!MessageInput.IsJson(request.ContentType))
        {
            return ApiProblem.UnsupportedMediaType(request.ContentType).ToResult(request);
        }

        var cancellation = request.HttpContext.RequestAborted;
        string? message;
        MultitaskStrategy? strategy;
        ApiProblem? problem;
        try
        {
            (message, strategy, problem) = await ReadMessageAsync(request, options.Value.MaxMessageBytes);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // The client went away (or the connection broke) while the body was read: nothing was signalled.
            return cancellation.IsCancellationRequested ? new EmptyResult() : ApiProblem.IncompleteBody(exception.Message).ToResult(request);
        }

        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        var turn = admission.NewTurn(sessionId, key, message!, strategy);

        // A streamed call answers with the turn's events once the session holds it, instead of waiting for the end. Its
        // stream is reserved first: past the caller's allowance nothing is stored or sent.
        bool streamed = untilFinished && WantsEvents(request);
        untilFinished &= !streamed;
        IDisposable? stream = null;
        if (streamed && (stream = events.Reserve(sessionKey!)) is null)
        {
            return events.TooManyStreams(request);
        }

        return await admission.AdmitAsync(request, client, sessionKey!, turn, message!, untilFinished, stream);
    }

    /// <summary>Whether the client asked for server-sent events rather than one JSON answer.</summary>
    static bool WantsEvents(HttpRequest request) =>
        request.Headers.Accept.Any(a => a?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);

    static async Task<(string? Message, MultitaskStrategy? Strategy, ApiProblem? Problem)> ReadMessageAsync(HttpRequest request, int maxMessageBytes)
    {
        int maxBody = MessageInput.MaxBodyBytes(maxMessageBytes);
        if (request.ContentLength > maxBody)
        {
            return (null, null, ApiProblem.MessageTooLarge(maxMessageBytes));
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
