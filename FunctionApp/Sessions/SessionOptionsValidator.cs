using FunctionsChat.Llm;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Sessions;

/// <summary>
/// A turn must be allowed to run as long as its model calls (the summary step's and the answer's) may retry;
/// otherwise the session expires a turn whose orchestration is still calling the model, and a second call starts
/// beside it.
/// </summary>
public sealed class SessionOptionsValidator(IOptions<LlmOptions> llm) : IValidateOptions<SessionOptions>
{
    /// <summary>Room for the orchestration to start and report back around the model call.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(30);

    public ValidateOptionsResult Validate(string? name, SessionOptions options)
    {
        var timeout = llm.Value.RequestTimeout;
        var needed = options.Retry.WorstCase(timeout) + (llm.Value.Summaries ? options.Retry.ForSummary().WorstCase(timeout) : TimeSpan.Zero) + Margin;
        return options.TurnTimeout >= needed
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Session:TurnTimeout ({options.TurnTimeout}) is shorter than the turn's model calls' worst case with retries plus {Margin.TotalSeconds:0} s ({needed}): "
                + "Session__ModelMaxAttempts × Llm__RequestTimeout + (Session__ModelMaxAttempts - 1) × Session__ModelMaxRetryInterval for the answer, "
                + "and, with Llm__Summaries on, 2 × Llm__RequestTimeout + Session__ModelMaxRetryInterval for the summary step. Raise Session__TurnTimeout or lower the others.");
    }
}
