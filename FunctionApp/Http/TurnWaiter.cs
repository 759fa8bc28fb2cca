using FunctionsChat.Domain;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>
/// How a call waits for its turn: the isolated client cannot call an entity and wait, so it reads the session's
/// committed state, backing off between reads (doubling up to a ceiling) until the turn has finished or the bound passes.
/// </summary>
public sealed class TurnWaiter(IOptions<ApiOptions> options, TimeProvider clock)
{
    /// <returns>The turn as last seen (finished, or still queued or running when the bound passed), or null if never seen.</returns>
    /// <exception cref="OperationCanceledException">The client went away.</exception>
    public async Task<TurnView?> WaitAsync(Func<CancellationToken, Task<ChatSessionState?>> read, string turnId, CancellationToken cancellation)
    {
        var api = options.Value;
        var deadline = clock.GetUtcNow() + api.CallTimeout;
        var delay = api.PollInitialDelay;
        while (true)
        {
            var state = await read(cancellation);
            var turn = state is null ? null : SessionQueries.FindTurn(state, turnId);
            if (turn is { Status: TurnStatus.Completed or TurnStatus.Failed or TurnStatus.Cancelled })
            {
                return turn;
            }

            var remaining = deadline - clock.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                return turn;
            }

            await Task.Delay(delay < remaining ? delay : remaining, clock, cancellation);
            delay = delay * 2 < api.PollMaxDelay ? delay * 2 : api.PollMaxDelay;
        }
    }
}
