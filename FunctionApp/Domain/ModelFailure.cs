using System.Globalization;
using System.Text.RegularExpressions;

namespace FunctionsChat.Domain;

/// <summary>
/// Why a model call failed, with a stable code. It crosses the activity boundary inside the exception message
/// (<c>[llm.rate_limited retry-after-ms=2000] ...</c>), because the isolated worker hands the orchestration only the
/// failure's type name and message, and does not always keep the type name intact.
/// </summary>
public sealed partial record ModelFailure(string Code, string Message, TimeSpan? RetryAfter = null)
{
    public const string RateLimited = "llm.rate_limited";
    public const string ServerError = "llm.server_error";
    public const string Timeout = "llm.timeout";
    public const string Network = "llm.network";
    public const string BadRequest = "llm.bad_request";
    public const string ContentFiltered = "llm.content_filtered";
    public const string Unauthorized = "llm.unauthorized";
    public const string Forbidden = "llm.forbidden";
    public const string NotFound = "llm.not_found";
    public const string ContextTooLong = "llm.context_too_long";

    /// <summary>The session's table, where a turn's words are read and written beside the model call, did not answer.</summary>
    public const string StoreUnavailable = "store.unavailable";

    /// <summary>The turn's message is no longer in the session's table: nothing to answer.</summary>
    public const string TextMissing = "store.text_missing";

    static readonly HashSet<string> TransientCodes = [RateLimited, ServerError, Timeout, Network, StoreUnavailable];

    public bool IsTransient => TransientCodes.Contains(Code);

    /// <summary>The failure as an exception message: the activity's failure details are a durable payload, so the text is clipped.</summary>
    public string ToMessage() => RetryAfter is { } wait
        ? $"[{Code} retry-after-ms={(long)wait.TotalMilliseconds}] {PayloadBudget.Clip(Message, PayloadBudget.NoteBytes)}"
        : $"[{Code}] {PayloadBudget.Clip(Message, PayloadBudget.NoteBytes)}";

    /// <summary>Finds the marker written by <see cref="ToMessage"/> in any of the given texts.</summary>
    public static ModelFailure? Find(IEnumerable<string?> texts)
    {
        foreach (string? text in texts)
        {
            if (text is null || Marker().Match(text) is not { Success: true } match)
            {
                continue;
            }

            TimeSpan? retryAfter = match.Groups["ms"].Success
                ? TimeSpan.FromMilliseconds(long.Parse(match.Groups["ms"].Value, CultureInfo.InvariantCulture))
                : null;
            return new ModelFailure(match.Groups["code"].Value, text[(match.Index + match.Length)..].Trim(), retryAfter);
        }

        return null;
    }

    [GeneratedRegex(@"\[(?<code>(?:llm|store)\.[a-z_]+)(?: retry-after-ms=(?<ms>\d{1,12}))?\]")]
    private static partial Regex Marker();
}
