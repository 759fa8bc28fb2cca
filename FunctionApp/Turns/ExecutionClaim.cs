using FunctionsChat.Archive;
using FunctionsChat.Domain;

namespace FunctionsChat.Turns;

/// <summary>
/// A model activity's claim on its turn's model call, for the execution of the orchestration that scheduled it
/// (<see cref="ReplyRequest.Execution"/>). Kept with the turn's stream: taking it fails once a later execution holds
/// it, and an attempt learns it was superseded when a later execution took it since.
/// </summary>
public sealed class ExecutionClaim(ITurnStreams streams, string sessionKey, string stream, string execution)
{
    /// <summary>The claim of a request that names its execution; none for one that does not (an older orchestration's).</summary>
    public static ExecutionClaim? For(ITurnStreams streams, ReplyRequest request) =>
        request is { SessionKey: { } key, Execution: { } execution }
            ? new ExecutionClaim(streams, key, StreamKeys.Of(request.AcceptedAt, request.TurnId), execution)
            : null;

    /// <summary>False when a later execution of the turn's orchestration holds the model call.</summary>
    public Task<bool> TakeAsync(CancellationToken cancellation) => streams.ClaimAsync(sessionKey, stream, execution, cancellation);

    /// <summary>Whether a later execution has claimed the model call since.</summary>
    public async Task<bool> SupersededAsync(CancellationToken cancellation) =>
        await streams.ClaimantAsync(sessionKey, stream, cancellation) is { } claimant && string.CompareOrdinal(claimant, execution) > 0;
}
