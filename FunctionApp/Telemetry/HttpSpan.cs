using System.Diagnostics;
using FunctionsChat.Domain;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Infrastructure;

namespace FunctionsChat.Telemetry;

/// <summary>A span around the handling of one HTTP request: the function, the session, the answer's status.</summary>
public static class HttpSpan
{
    /// <param name="sessionId">The raw route value: tagged only when it is a valid session id.</param>
    public static async Task<IActionResult> TraceAsync(string function, string sessionId, Func<Task<IActionResult>> handle)
    {
        using var span = ChatTelemetry.Start($"HTTP {function}", ActivityKind.Internal, null, SessionIds.IsValid(sessionId) ? sessionId : null, null);
        var result = await handle();
        if (span is null)
        {
            return result;
        }

        if (result is IStatusCodeActionResult { StatusCode: int status })
        {
            span.SetTag("http.response.status_code", status);
            if (status >= 400)
            {
                span.SetStatus(status >= 500 ? ActivityStatusCode.Error : ActivityStatusCode.Unset);
                span.SetTag("error.type", (result as ObjectResult)?.Value is ProblemDetails problem ? problem.Type : status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        else if (result is EmptyResult)
        {
            span.SetTag("chat.client_gone", true);
        }

        return result;
    }
}
