using System.Net.ServerSentEvents;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace FunctionsChat.Http;

/// <summary>
/// Server-sent events as an HTTP response: written with <see cref="SseFormatter"/>, which flushes after every event,
/// with response buffering off so each event leaves at once, and the headers sent before the first. A reader that goes away ends the writing.
/// </summary>
public sealed class SseResult(Func<CancellationToken, IAsyncEnumerable<SseItem<string>>> events, IDisposable? lease = null) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var aborted = context.HttpContext.RequestAborted;
        try
        {
            // The headers leave now: a reader learns the stream is open before its first event (a browser's fetch
            // resolves only then), even on a session with nothing to tell yet.
            await response.StartAsync(aborted);
            await response.Body.FlushAsync(aborted);
            await SseFormatter.WriteAsync(events(aborted), response.Body, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The reader went away; it resumes with Last-Event-ID.
        }
        finally
        {
            lease?.Dispose();
        }
    }
}
