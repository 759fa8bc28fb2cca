using FunctionsChat.Archive;
using FunctionsChat.Domain;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>
/// How a request waits for the session to get somewhere: the isolated client cannot call an entity and wait, so it
/// reads the session's committed state, backing off between reads (doubling up to a ceiling) until it is there or
/// the bound passes. A call also watches its answer's stream between those reads (every <see cref="StreamPoll"/>):
/// once the stream's last chunk is written the result is on its way to the session, and the state is read every
/// <see cref="FinishPoll"/> until it lands, so the answer leaves within about 100 ms of the turn finishing.
/// </summary>
public sealed class TurnWaiter(IOptions<ApiOptions> options, TimeProvider clock, ITurnStreams streams, Turns.TurnNotices? notices = null)
{
    /// <summary>How often a running turn's stream is read for its last chunk.</summary>
    public static readonly TimeSpan StreamPoll = TimeSpan.FromMilliseconds(100);

    /// <summary>How often the state is read once the answer's last chunk is written.</summary>
    public static readonly TimeSpan FinishPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>How long the state is read that often; after it, every <see cref="StreamPoll"/> until the turn has finished.</summary>
    public static readonly TimeSpan FinishWindow = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Waits until the session has settled the request (<see cref="ApiOptions.AcceptTimeout"/> at most) and, when
    /// <paramref name="untilFinished"/> (a call), until its turn has finished, within <see cref="ApiOptions.CallTimeout"/>
    /// of the start (or at once, when the settling took that long).
    /// </summary>
    /// <returns>The receipt as last seen, and the state it was read from.</returns>
    /// <exception cref="OperationCanceledException">The client went away.</exception>
    public async Task<(Receipt Receipt, ChatSessionState? State)> WaitAsync(Func<CancellationToken, Task<ChatSessionState?>> read, string sessionKey, TurnRequest request, bool untilFinished, CancellationToken cancellation)
    {
        var api = options.Value;
        var started = clock.GetUtcNow();
        var receipt = new Receipt(ReceiptStatus.Unseen, null);
        // The turn's stream is known before the session has taken it: a fast turn may start and finish between two
        // reads of the state.
        var answer = new AnswerWatch(streams, clock, sessionKey, notices);
        Func<DateTimeOffset, CancellationToken, Task>? pause = untilFinished
            ? (until, c) => answer.WaitAsync(receipt.Turn?.AcceptedAt ?? request.AcceptedAt, request.TurnId, until, c)
            : null;
        var last = await UntilAsync(read, state =>
        {
            receipt = SessionQueries.ReceiptOf(state, request);
            return receipt.IsSettled && !(untilFinished && receipt is { Status: ReceiptStatus.Taken, Turn.IsFinished: false } && clock.GetUtcNow() - started < api.CallTimeout);
        }, untilFinished && api.CallTimeout > api.AcceptTimeout ? api.CallTimeout : api.AcceptTimeout, cancellation, pause);
        return (receipt, last);
    }

    /// <param name="pause">How to wait until the next read is due (the moment it is given); a plain delay when null.</param>
    /// <returns>
    /// The state last read: the one that satisfied <paramref name="reached"/>, or the last when <paramref name="bound"/>
    /// passed. A read that fails (the Durable client failed or timed out) is no news: the next read is tried as due.
    /// </returns>
    /// <exception cref="OperationCanceledException">The client went away.</exception>
    /// <exception cref="Exception">Not one read succeeded within the bound: the last read's failure.</exception>
    public async Task<ChatSessionState?> UntilAsync(Func<CancellationToken, Task<ChatSessionState?>> read, Func<ChatSessionState?, bool> reached, TimeSpan bound, CancellationToken cancellation, Func<DateTimeOffset, CancellationToken, Task>? pause = null)
    {
        var api = options.Value;
        var deadline = clock.GetUtcNow() + bound;
        var delay = api.PollInitialDelay;
        ChatSessionState? state = null;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? unread = null;
        bool everRead = false;
        while (true)
        {
            bool fresh;
            try
            {
                state = await read(cancellation);
                fresh = everRead = true;
            }
            catch (Exception failure) when (!cancellation.IsCancellationRequested)
            {
                unread = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure);
                fresh = false;
            }

            var remaining = deadline - clock.GetUtcNow();
            if ((fresh && reached(state)) || remaining <= TimeSpan.Zero)
            {
                if (!everRead)
                {
                    unread!.Throw();
                }

                return state;
            }

            var wait = delay < remaining ? delay : remaining;
            await (pause is null ? Task.Delay(wait, clock, cancellation) : pause(clock.GetUtcNow() + wait, cancellation));
            delay = delay * 2 < api.PollMaxDelay ? delay * 2 : api.PollMaxDelay;
        }
    }

    /// <summary>A running turn's stream, watched for its last chunk between reads of the state.</summary>
    sealed class AnswerWatch(ITurnStreams streams, TimeProvider clock, string sessionKey, Turns.TurnNotices? notices)
    {
        string? seen;
        DateTimeOffset? lastAt;


        /// <summary>
        /// Waits until the next read of the state is due: <paramref name="until"/>, or as soon as the stream's last
        /// chunk is there; from then on every <see cref="FinishPoll"/> for <see cref="FinishWindow"/>, then every
        /// <see cref="StreamPoll"/>.
        /// </summary>
        public async Task WaitAsync(DateTimeOffset acceptedAt, string turnId, DateTimeOffset until, CancellationToken cancellation)
        {
            if (lastAt is { } at)
            {
                // The result is on its way: soon, unless a lost result is redelivered or an attempt is retried.
                await Task.Delay(clock.GetUtcNow() - at < FinishWindow ? FinishPoll : StreamPoll, clock, cancellation);
                return;
            }

            while (clock.GetUtcNow() < until)
            {
                var left = until - clock.GetUtcNow();
                if (await NoticedAsync(turnId, left < StreamPoll ? left : StreamPoll, cancellation))
                {
                    // The model activity in this process has reported the answer: the session is about to have it.
                    lastAt = clock.GetUtcNow();
                    return;
                }

                var chunks = await streams.ReadAsync(sessionKey, StreamKeys.Of(acceptedAt, turnId), seen, cancellation);
                if (chunks.Count > 0)
                {
                    seen = chunks[^1].EventId;
                }

                if (chunks.Any(c => c.Last))
                {
                    lastAt = clock.GetUtcNow();
                    return;
                }
            }
        }

        /// <returns>Whether the turn's answer was reported in this process before <paramref name="delay"/> passed.</returns>
        async Task<bool> NoticedAsync(string turnId, TimeSpan delay, CancellationToken cancellation)
        {
            if (notices is null)
            {
                await Task.Delay(delay, clock, cancellation);
                return false;
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            var noticed = notices.WhenAnsweredAsync(sessionKey, turnId, wait.Token);
            var elapsed = Task.Delay(delay, clock, wait.Token);
            var first = await Task.WhenAny(noticed, elapsed);
            wait.Cancel();
            await Task.WhenAll(noticed, elapsed).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellation.ThrowIfCancellationRequested();
            return first == noticed && noticed.IsCompletedSuccessfully;
        }
    }
}
