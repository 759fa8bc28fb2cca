using System.Runtime.CompilerServices;
using FunctionsChat.Domain;

namespace FunctionsChat.Archive;

/// <summary>
/// Reads one line of a session's archived turns (<see cref="Branches"/>), newest first, following each turn's parent.
/// A session that never branched reads every turn, a page at a time; one with branches passes over other lines'
/// turns in the pages it reads, and reads again below a gap.
/// </summary>
public static class ArchiveLine
{
    public const int PageSize = 64;

    /// <param name="from">The line's newest archived turn.</param>
    /// <param name="floor">Stop at this sequence (excluded): the end of what a summary covers, or 0 for the whole line.</param>
    /// <param name="pageRead">Told of each page read.</param>
    public static async IAsyncEnumerable<TranscriptTurn> ReadAsync(ITranscriptArchive archive, string sessionKey, long from, long floor, [EnumeratorCancellation] CancellationToken cancellation, Action? pageRead = null)
    {
        long next = from;
        while (next > floor)
        {
            var page = await archive.ReadBeforeAsync(sessionKey, next + 1, PageSize, cancellation);
            pageRead?.Invoke();
            if (page.Count == 0)
            {
                yield break;
            }

            for (int i = page.Count - 1; i >= 0 && next > floor; i--)
            {
                long sequence = page[i].Sequence;
                if (sequence < next)
                {
                    // Not in the archive: the line ends here.
                    yield break;
                }

                if (sequence == next)
                {
                    yield return page[i];
                    next = Branches.ParentOf(page[i]);
                }
            }
        }
    }

    /// <summary>Whether the line read from <paramref name="from"/> passes through turn <paramref name="sequence"/>.</summary>
    public static async Task<bool> PassesThroughAsync(ITranscriptArchive archive, string sessionKey, long from, long sequence, CancellationToken cancellation)
    {
        await foreach (var turn in ReadAsync(archive, sessionKey, from, sequence - 1, cancellation))
        {
            if (turn.Sequence == sequence)
            {
                return true;
            }
        }

        return false;
    }
}
