using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using FunctionsChat.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>A turn's status (attach to it later), and cancelling it.</summary>
public sealed partial class TurnFunctions(CallerResolver callers, ITranscriptArchive archive, TurnWaiter waiter, IOptions<ApiOptions> options, TimeProvider clock, ILogger<TurnFunctions> logger)
{
    [Function(nameof(GetTurn))]
    public Task<IActionResult> GetTurn(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = ChatRoutes.Turn)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId,
        string turnId) =>
        HttpSpan.TraceAsync(nameof(GetTurn), sessionId, () => GetTurnAsync(request, client, sessionId, turnId));

    async Task<IActionResult> GetTurnAsync(
        HttpRequest request,
        DurableTaskClient client,
        string sessionId,
        string turnId)
    {
        var (turn, _, problem) = await FindAsync(request, client, sessionId, turnId);
        return problem?.ToResult(request) ?? new OkObjectResult(TurnStatusView.From(sessionId, turn!));
    }

    [Function(nameof(CancelTurn))]
    public Task<IActionResult> CancelTurn(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = ChatRoutes.Turn)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId,
        string turnId) =>
        HttpSpan.TraceAsync(nameof(CancelTurn), sessionId, () => CancelTurnAsync(request, client, sessionId, turnId));

    async Task<IActionResult> CancelTurnAsync(
        HttpRequest request,
        DurableTaskClient client,
        string sessionId,
        string turnId)
    {
        var cancellation = request.HttpContext.RequestAborted;
        TurnView? turn;
        string? sessionKey;
        ApiProblem? problem;
        try
        {
            (turn, sessionKey, problem) = await FindAsync(request, client, sessionId, turnId);
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            return SessionStore.Unavailable(request, sessionId);
        }

        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        if (turn!.Status is not (TurnStatus.Queued or TurnStatus.Running))
        {
            return ApiProblem.TurnAlreadyFinished(turnId, turn.Status).ToResult(request);
        }

        if (!await SessionStore.TrySignalAsync(client, sessionKey!, nameof(ChatSession.Cancel), new TurnCancellation(turnId), cancellation))
        {
            return cancellation.IsCancellationRequested ? new EmptyResult() : SessionStore.Unavailable(request, sessionId);
        }

        if (turn.Status == TurnStatus.Running)
        {
            // The session finishes a running turn once its model call has stopped and reported what it had said (or
            // when the stop grace passes); then its orchestration is terminated, so none of it goes on: a retry it was
            // waiting to make, or an orchestration that never reported.
            try
            {
                var state = await waiter.UntilAsync(
                    c => SessionStore.ReadAsync(client, sessionKey!, c),
                    s => s is null || SessionQueries.FindTurn(s, turnId) is not { IsFinished: false },
                    options.Value.CancelTimeout,
                    cancellation);
                // Only once the session has finished this very turn (the same life: same sequence): terminating it
                // sooner would lose the report of what its model had said.
                if (state is not null && SessionQueries.FindTurn(state, turnId) is { IsFinished: true } finished && finished.Sequence == turn.Sequence)
                {
                    await TerminateAsync(client, SessionIds.TurnInstanceId(sessionKey!, turnId, SessionQueries.RunOf(state, turn.Sequence)), cancellation);
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return new EmptyResult();
            }
            catch (Exception)
            {
                // The cancel is on its way (a signal is delivered at least once); only the session's answer could not be read.
            }
        }

        string url = ChatRoutes.TurnUrl(sessionId, turnId);
        return new AcceptedResult(url, new AcceptedView(sessionId, turnId, url));
    }

    /// <summary>Terminates a turn's orchestration; one that has already finished cannot be, and is left as it is.</summary>
    async Task TerminateAsync(DurableTaskClient client, string instanceId, CancellationToken cancellation)
    {
        try
        {
            await client.TerminateInstanceAsync(instanceId, cancellation);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The host refuses to terminate an instance that is not running (it has reported and finished).
            NotTerminated(logger, instanceId, exception.Message);
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Debug, Message = "Turn orchestration {InstanceId} was not terminated: {Reason}")]
    static partial void NotTerminated(ILogger logger, string instanceId, string reason);

    Task<(TurnView? Turn, string? SessionKey, ApiProblem? Problem)> FindAsync(HttpRequest request, DurableTaskClient client, string sessionId, string turnId) =>
        TurnLookup.FindAsync(request, client, callers, archive, clock, sessionId, turnId);
}
