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
        var plan = HistoryPaging.For(state, before, limit);
        var archived = plan.ArchiveCount > 0
            ? await archive.ReadBeforeAsync(sessionKey!, plan.ArchiveBefore, plan.ArchiveCount, cancellation)
            : [];
        var (turns, previous) = HistoryPaging.Page(archived, plan);
        var stored = before is null && limit is null && state.ArchivedThrough > 0 ? await archive.ReadSummaryAsync(sessionKey!, cancellation) : null;
        var summary = stored?.Belongs(state.Generation, state.ArchivedThrough) == true ? stored : null;

        return new OkObjectResult(HistoryView.From(sessionId, state, turns, previous) with
        {
            Summary = summary is null ? null : new SummaryView(summary.Through, summary.Text, summary.WrittenAt),
        });
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
