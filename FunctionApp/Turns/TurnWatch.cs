using FunctionsChat.Domain;

namespace FunctionsChat.Turns;

/// <summary>
/// The model activity's view of its session while the model speaks: it reads the session's committed state when the
/// attempt begins and every <see cref="StopCheck"/> after, learning the session's newest event (which places the
/// answer's chunks among the session's events) and whether the turn may go on. Once the session has asked the turn to
/// stop (cancel, interrupt, rollback), finished it (expiry) or is gone, <see cref="Stopped"/> is cancelled, which
/// closes the model request. A failed read changes nothing: the answer goes on.
/// </summary>
public sealed class TurnWatch(Func<CancellationToken, Task<ChatSessionState?>> read, TimeProvider clock, string turnId, string? run) : IAsyncDisposable
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
    public async Task<bool> BeginAsync(CancellationToken cancellation)
    {
        await CheckAsync(cancellation);
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
    public static TurnWatch? For(Microsoft.DurableTask.Client.DurableTaskClient? client, ReplyRequest request, TimeProvider clock) =>
        client is null || request.SessionKey is not { } key
            ? null
            : new TurnWatch(cancellation => Http.SessionStore.ReadAsync(client, key, cancellation), clock, request.TurnId, request.Run);

    async Task CheckAsync(CancellationToken cancellation)
    {
        ChatSessionState? state;
        try
        {
            state = await read(cancellation);
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            // A failed read (a cancelled gRPC call included, when it was not this watch that cancelled it) is no news.
            return;
        }

        Events = Math.Max(Events, state?.Events ?? 0);
        if (!SessionQueries.Runs(state, turnId, run))
        {
            // Cancelled here and now: the model request closes before this read returns.
            stopped.Cancel();
        }
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
