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
    /// <summary>
    /// Waits until the session has settled the request (<see cref="ApiOptions.AcceptTimeout"/> at most) and, when
    /// <paramref name="untilFinished"/> (a call), until its turn has finished, within <see cref="ApiOptions.CallTimeout"/>
    /// of the start (or at once, when the settling took that long).
    /// </summary>
    /// <returns>The receipt as last seen, and the state it was read from.</returns>
    /// <exception cref="OperationCanceledException">The client went away.</exception>
    public async Task<(Receipt Receipt, ChatSessionState? State)> WaitAsync(Func<CancellationToken, Task<ChatSessionState?>> read, TurnRequest request, bool untilFinished, CancellationToken cancellation)
    {
        var api = options.Value;
        var started = clock.GetUtcNow();
        var receipt = new Receipt(ReceiptStatus.Unseen, null);
        var last = await UntilAsync(read, state =>
        {
            receipt = SessionQueries.ReceiptOf(state, request);
            return receipt.IsSettled && !(untilFinished && receipt is { Status: ReceiptStatus.Taken, Turn.IsFinished: false } && clock.GetUtcNow() - started < api.CallTimeout);
        }, untilFinished && api.CallTimeout > api.AcceptTimeout ? api.CallTimeout : api.AcceptTimeout, cancellation);
        return (receipt, last);
    }

    /// <returns>The state last read: the one that satisfied <paramref name="reached"/>, or the last when <paramref name="bound"/> passed.</returns>
    /// <exception cref="OperationCanceledException">The client went away.</exception>
    public async Task<ChatSessionState?> UntilAsync(Func<CancellationToken, Task<ChatSessionState?>> read, Func<ChatSessionState?, bool> reached, TimeSpan bound, CancellationToken cancellation)
    {
        var api = options.Value;
        var deadline = clock.GetUtcNow() + bound;
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
