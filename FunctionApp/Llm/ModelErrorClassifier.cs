using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net.Sockets;
using FunctionsChat.Domain;

namespace FunctionsChat.Llm;

/// <summary>
/// The one place a model client's exception becomes a <see cref="ModelFailure"/>: transient (408, 429, 5xx,
/// timeouts, refused or reset connections) or permanent (400, content filtering and a context over the model's window,
/// 401, 403, 404).
/// </summary>
public static class ModelErrorClassifier
{
    /// <returns>The failure, or null when the exception is not a model-call failure (the activity was cancelled).</returns>
    public static ModelFailure? Classify(Exception exception, CancellationToken activityCancellation)
    {
        switch (exception)
        {
            case ModelCallException known:
                return known.Failure;
            case ClientResultException { Status: > 0 } result:
                return FromStatus(result.Status, result.GetRawResponse(), result.Message);
            case ClientResultException result:
                return new(ModelFailure.Network, result.Message);
            case OperationCanceledException when activityCancellation.IsCancellationRequested:
                return null;
            case OperationCanceledException or TimeoutException:
                return new(ModelFailure.Timeout, "The model did not answer within the request timeout.");
            case Azure.RequestFailedException stored:
                return new(ModelFailure.StoreUnavailable, stored.Message);
            case HttpRequestException or SocketException or IOException:
                return new(ModelFailure.Network, exception.Message);
            default:
                return exception.InnerException is { } inner ? Classify(inner, activityCancellation) : null;
        }
    }

    static ModelFailure FromStatus(int status, PipelineResponse? response, string message) => status switch
    {
        408 => new(ModelFailure.Timeout, message),
        429 => new(ModelFailure.RateLimited, message, RetryAfter(response)),
        400 when Mentions(response, "content_filter") => new(ModelFailure.ContentFiltered, "The request was refused by the content filter."),
        400 when Mentions(response, "context_length_exceeded") => new(ModelFailure.ContextTooLong, message),
        400 or 413 or 422 => new(ModelFailure.BadRequest, message),
        401 => new(ModelFailure.Unauthorized, message),
        403 => new(ModelFailure.Forbidden, message),
        404 => new(ModelFailure.NotFound, message),
        >= 500 => new(ModelFailure.ServerError, message),
        _ => new(ModelFailure.BadRequest, message),
    };

    static bool Mentions(PipelineResponse? response, string code)
    {
        try
        {
            return response?.Content?.ToString().Contains(code, StringComparison.OrdinalIgnoreCase) == true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Reads <c>retry-after-ms</c> (milliseconds) or <c>Retry-After</c> (seconds or an HTTP date).</summary>
    public static TimeSpan? RetryAfter(PipelineResponse? response)
    {
        if (response is null)
        {
            return null;
        }

        if (response.Headers.TryGetValue("retry-after-ms", out string? ms)
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (response.Headers.TryGetValue("Retry-After", out string? value))
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var wait = at - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }
}
