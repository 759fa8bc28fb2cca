using FunctionsChat.Domain;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>
/// How a request waits for the session to get somewhere: the isolated client cannot call an entity and wait, so it
/// reads the session's committed state, backing off between reads (doubling up to a ceiling) until it is there or
/// the bound passes.
/// </summary>
public sealed class TurnWaiter(IOptions<ApiOptions> options, TimeProvider clock)
{
    /// <returns>The turn as last seen (finished, or still queued or running when the bound passed), or null if never seen.</returns>
    /// <exception cref="OperationCanceledException">The client went away.</exception>
    public async Task<TurnView?> WaitAsync(Func<CancellationToken, Task<ChatSessionState?>> read, string turnId, CancellationToken cancellation)
    {
        var state = await UntilAsync(read, s => s is not null && SessionQueries.FindOutcome(s, turnId) is { IsFinished: true }, cancellation);
        return state is null ? null : SessionQueries.FindOutcome(state, turnId);
    }

    /// <returns>The state last read: the one that satisfied <paramref name="reached"/>, or the last when the bound passed.</returns>
    /// <exception cref="OperationCanceledException">The client went away.</exception>
    public async Task<ChatSessionState?> UntilAsync(Func<CancellationToken, Task<ChatSessionState?>> read, Func<ChatSessionState?, bool> reached, CancellationToken cancellation)
    {
        var api = options.Value;
        var deadline = clock.GetUtcNow() + api.CallTimeout;
        var delay = api.PollInitialDelay;
        while (true)
        {
            var state = await read(cancellation);
            var remaining = deadline - clock.GetUtcNow();
            if (reached(state) || remaining <= TimeSpan.Zero)
            {
                return state;
            }

            await Task.Delay(delay < remaining ? delay : remaining, clock, cancellation);
            delay = delay * 2 < api.PollMaxDelay ? delay * 2 : api.PollMaxDelay;
        }
    }
}
