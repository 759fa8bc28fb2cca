using System.Globalization;
using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Http;

/// <summary>
/// The shared read: committed entity state, answered at once even while a turn runs; older pages come from the
/// archive (<c>?before=&lt;sequence&gt;&amp;limit=</c>).
/// </summary>
public sealed class HistoryFunctions(ITranscriptArchive archive, CallerResolver callers)
{
    [Function(nameof(GetHistory))]
    public Task<IActionResult> GetHistory(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = ChatRoutes.History)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId) =>
        HttpSpan.TraceAsync(nameof(GetHistory), sessionId, () => GetHistoryAsync(request, client, sessionId));

    async Task<IActionResult> GetHistoryAsync(
        HttpRequest request,
        DurableTaskClient client,
        string sessionId)
    {
        if (!SessionIds.IsValid(sessionId))
        {
            return ApiProblem.InvalidSessionId(sessionId).ToResult(request);
        }

        if (ReadCursor(request, out long? before, out int? limit) is { } badQuery)
        {
            return badQuery.ToResult(request);
        }

        var (sessionKey, denied) = await callers.SessionKeyAsync(request, sessionId);
        if (denied is not null)
        {
            return denied.ToResult(request);
        }

        var cancellation = request.HttpContext.RequestAborted;
        var (reached, state) = await SessionStore.TryReadAsync(client, sessionKey!, cancellation);
        if (!reached)
        {
            return SessionStore.Unavailable(request, sessionId);
        }

        if (state is null or { IsEmpty: true })
        {
            return ApiProblem.SessionNotFound(sessionId).ToResult(request);
        }

        state = await StoredTexts.FillAsync(archive, sessionKey!, state, cancellation);
        var (turns, previous) = state.Head is null
            ? await LinearPageAsync(sessionKey!, state, before, limit, cancellation)
            : await LinePageAsync(sessionKey!, state, before, limit, cancellation);
        var stored = before is null && limit is null && state.ArchivedThrough > 0 ? await archive.ReadSummaryAsync(sessionKey!, cancellation) : null;
        // A session that has branched shows the summary only of the branch it follows (the one its model is shown).
        var summary = stored?.Belongs(state.Generation, state.ArchivedThrough) == true
            && (state.Head is null || await ArchiveLine.PassesThroughAsync(archive, sessionKey!, Branches.LineFrom(state, Branches.HeadOf(state)).ArchivedFrom, stored.Through, cancellation))
            ? stored : null;

        return new OkObjectResult(HistoryView.From(sessionId, state, turns, previous) with
        {
            Summary = summary is null ? null : new SummaryView(summary.Through, summary.Text, summary.WrittenAt),
        });
    }

    /// <summary>A session that never branched: its turns in sequence order, from the working set and the archive.</summary>
    async Task<(IReadOnlyList<TranscriptTurn> Turns, long? Before)> LinearPageAsync(string sessionKey, ChatSessionState state, long? before, int? limit, CancellationToken cancellation)
    {
        var plan = HistoryPaging.For(state, before, limit);
        var archived = plan.ArchiveCount > 0
            ? await archive.ReadBeforeAsync(sessionKey, plan.ArchiveBefore, plan.ArchiveCount, cancellation)
            : [];
        return HistoryPaging.Page(archived, plan);
    }

    /// <summary>A session that has branched: the line the conversation follows, from the working set and then the archive by parent.</summary>
    async Task<(IReadOnlyList<TranscriptTurn> Turns, long? Before)> LinePageAsync(string sessionKey, ChatSessionState state, long? before, int? limit, CancellationToken cancellation)
    {
        var plan = HistoryPaging.ForLine(state, before, limit);
        long from = plan.ArchiveFrom;
        if (plan.ArchiveParentOf is { } cursor)
        {
            var row = (await archive.ReadBeforeAsync(sessionKey, cursor + 1, 1, cancellation)).FirstOrDefault(t => t.Sequence == cursor);
            from = row is null ? 0 : Branches.ParentOf(row);
        }

        var archived = new List<TranscriptTurn>();
        if (from > 0 && plan.ArchiveCount > 0)
        {
            await foreach (var turn in ArchiveLine.ReadAsync(archive, sessionKey, from, 0, cancellation))
            {
                archived.Add(turn);
                if (archived.Count == plan.ArchiveCount)
                {
                    break;
                }
            }
        }

        archived.Reverse();
        var page = archived.Concat(plan.FromState).ToArray();
        return (page, page.Length > 0 && Branches.ParentOf(page[0]) > 0 ? page[0].Sequence : null);
    }

    static ApiProblem? ReadCursor(HttpRequest request, out long? before, out int? limit)
    {
        before = null;
        limit = null;
        if (request.Query["before"].ToString() is { Length: > 0 } b)
        {
            if (!long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value < 1)
            {
                return ApiProblem.InvalidQuery("before", "before is a turn sequence, a whole number from 1.");
            }

            before = value;
        }

        if (request.Query["limit"].ToString() is { Length: > 0 } l)
        {
            if (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < 1 || value > HistoryPaging.MaxLimit)
            {
                return ApiProblem.InvalidQuery("limit", $"limit is a whole number from 1 to {HistoryPaging.MaxLimit}.");
            }

            limit = value;
        }

        return null;
    }
}
