using System.Collections.Concurrent;

namespace FunctionsChat.Turns;

/// <summary>
/// Word, inside one worker process, that a turn's model activity has finished its answer and reported it: a call
/// waiting in the same process wakes at once instead of at its next read of the stream. Across instances nothing is
/// shared and the waiter's reads find it as before; a notice nobody waits for is dropped, so nothing accumulates.
/// </summary>
public sealed class TurnNotices
{
    readonly ConcurrentDictionary<(string Session, string Turn), TaskCompletionSource> waiting = new();

    /// <summary>The turn's answer is reported: whoever waits for it here wakes.</summary>
    public void Answered(string sessionKey, string turnId)
    {
        if (waiting.TryRemove((sessionKey, turnId), out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Completes when the turn's answer is reported in this process, or when <paramref name="cancellation"/> fires.</summary>
    public async Task WhenAnsweredAsync(string sessionKey, string turnId, CancellationToken cancellation)
    {
        // Continuations run where the notice is given: the waiter's own awaits return it to its context at once.
        var waiter = waiting.GetOrAdd((sessionKey, turnId), _ => new TaskCompletionSource());
        try
        {
            await waiter.Task.WaitAsync(cancellation);
        }
        finally
        {
            waiting.TryRemove(new KeyValuePair<(string, string), TaskCompletionSource>((sessionKey, turnId), waiter));
        }
    }
}
