using FunctionsChat.Domain;

namespace FunctionsChat.Turns;

/// <summary>
/// The model activity's view of its session while the model speaks: it reads the session's committed state when the
/// attempt begins and every <see cref="StopCheck"/> after, learning the session's newest event (which places the
/// answer's chunks among the session's events) and whether the turn may go on. Once the session has asked the turn to
/// stop (cancel, interrupt, rollback), finished it (expiry) or is gone, <see cref="Stopped"/> is cancelled, which
/// closes the model request. A failed read changes nothing: the answer goes on.
/// <para>
/// The session tells apart incarnations of a turn (its run), not two executions of one orchestration instance: on
/// Azure Storage an entity's start of an instance that is running replaces it, and the replaced execution's activity
/// runs on. So the model call is claimed for its execution too (<paramref name="claim"/>): an attempt whose execution
/// has been superseded stops as a stopped turn's does, and begins no model call.
/// </para>
/// </summary>
public sealed class TurnWatch(Func<CancellationToken, Task<ChatSessionState?>> read, TimeProvider clock, string turnId, string? run, ExecutionClaim? claim = null) : IAsyncDisposable
{
    /// <summary>How often the session is read while the model speaks: the longest a stopped turn's model call goes on.</summary>
    public static readonly TimeSpan StopCheck = TimeSpan.FromMilliseconds(250);

    readonly CancellationTokenSource stopped = new();
    readonly CancellationTokenSource done = new();
    Task? loop;

    /// <summary>The number of the session's newest event, as last read.</summary>
    public long Events { get; private set; }

    /// <summary>Cancelled once the session no longer lets this turn run.</summary>
    public CancellationToken Stopped => stopped.Token;

    /// <summary>Reads the session once; false when the turn may not run (then no model call should begin).</summary>
    /// <exception cref="Llm.ModelCallException">The session could not be read (a transient store failure).</exception>
    public async Task<bool> BeginAsync(CancellationToken cancellation)
    {
        if (claim is not null && !await claim.TakeAsync(cancellation))
        {
            stopped.Cancel();
            return false;
        }

        if (!await CheckAsync(cancellation))
        {
            // Not knowing whether the turn runs, no model call begins: the attempt fails as a transient store failure
            // and the orchestration's retry tries again.
            throw new Llm.ModelCallException(new ModelFailure(ModelFailure.StoreUnavailable, "The session could not be read before the model call."));
        }

        if (!stopped.IsCancellationRequested)
        {
            loop = WatchAsync();
        }

        return !stopped.IsCancellationRequested;
    }

    async Task WatchAsync()
    {
        try
        {
            while (!stopped.IsCancellationRequested)
            {
                await Task.Delay(StopCheck, clock, done.Token);
                await CheckAsync(done.Token);
            }
        }
        catch (OperationCanceledException) when (done.IsCancellationRequested)
        {
        }
    }

    /// <summary>The watch of a model activity's turn, over the session's committed state; none without a client or session.</summary>
    public static TurnWatch? For(Microsoft.DurableTask.Client.DurableTaskClient? client, Archive.ITurnStreams streams, ReplyRequest request, TimeProvider clock) =>
        client is null || request.SessionKey is not { } key
            ? null
            : new TurnWatch(cancellation => Http.SessionStore.ReadAsync(client, key, cancellation), clock, request.TurnId, request.Run, ExecutionClaim.For(streams, request));

    /// <returns>Whether the session was read.</returns>
    async Task<bool> CheckAsync(CancellationToken cancellation)
    {
        var superseded = claim is null ? Task.FromResult(false) : claim.SupersededAsync(cancellation);
        ChatSessionState? state = null;
        bool known;
        try
        {
            state = await read(cancellation);
            known = true;
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            // A failed read (a cancelled gRPC call included, when it was not this watch that cancelled it) is no news.
            known = false;
        }

        bool replaced;
        try
        {
            replaced = await superseded;
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            replaced = false;
        }

        Events = Math.Max(Events, state?.Events ?? 0);
        if (replaced || (known && !SessionQueries.Runs(state, turnId, run)))
        {
            // Cancelled here and now: the model request closes before this read returns.
            stopped.Cancel();
        }

        return known;
    }

    public async ValueTask DisposeAsync()
    {
        done.Cancel();
        if (loop is not null)
        {
            // The loop ends on its own cancellation and never throws past it: the answer's outcome is never replaced.
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        }

        stopped.Dispose();
        done.Dispose();
    }
}
