using System.Collections.Concurrent;

namespace FunctionsChat.Http;

/// <summary>
/// Counts the event streams each caller has open on this instance, so one caller cannot hold an unbounded number
/// of long requests (each polls the store). Per instance: with several instances a caller may hold this many on each.
/// </summary>
public sealed class StreamLimiter
{
    readonly ConcurrentDictionary<string, int> open = new();

    /// <summary>A lease on one more stream for <paramref name="owner"/>, or null when it already has <paramref name="max"/> open.</summary>
    public IDisposable? TryEnter(string owner, int max)
    {
        while (true)
        {
            int count = open.GetOrAdd(owner, 0);
            if (count >= max)
            {
                return null;
            }

            if (open.TryUpdate(owner, count + 1, count))
            {
                return new Lease(this, owner);
            }
        }
    }

    void Leave(string owner)
    {
        open.AddOrUpdate(owner, 0, (_, count) => Math.Max(0, count - 1));
        open.TryRemove(new KeyValuePair<string, int>(owner, 0));
    }

    sealed class Lease(StreamLimiter limiter, string owner) : IDisposable
    {
        int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                limiter.Leave(owner);
            }
        }
    }
}
