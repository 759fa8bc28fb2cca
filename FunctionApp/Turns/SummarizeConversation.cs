using System.Diagnostics;
using System.Text;
using System.Text.Json.Serialization;
using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Llm;
using FunctionsChat.Telemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Turns;

/// <summary>What the summary step left behind: the last turn the session's summary covers, and whether it wrote one.</summary>
public sealed record SummaryOutcome(
    [property: JsonPropertyName("through")] long Through,
    [property: JsonPropertyName("written")] bool Written);

/// <summary>
/// A turn's summary step, before its model call: when at least <see cref="LlmOptions.SummaryTrigger"/> turns have
/// fallen out of the model's context since the session's summary was written, the model folds them into it (the
/// previous summary plus the turns newly left out, in order, a context's worth at a time) and the new summary,
/// covering turns 1..N exactly, replaces the old in the session's archive. Its own activity, retried like any model
/// call; the transcript keeps every word.
/// </summary>
public sealed class SummarizeConversation(IChatClient chat, ContextAssembler context, ContextFitter fitter, ITranscriptArchive archive, IOptions<LlmOptions> options, TimeProvider clock)
{
    public const string Instructions =
        "You keep the memory of a long conversation between a user and an assistant. Rewrite the summary so far, "
        + "adding the turns given, into one concise summary: who the user is, what they asked for, decisions, facts, "
        + "names, numbers and open questions. Write only the summary.";

    public const string SoFar = "Summary so far:";

    [Function(nameof(SummarizeConversation))]
    public async Task<SummaryOutcome> Run([ActivityTrigger] ReplyRequest request, CancellationToken cancellation)
    {
        var llm = options.Value;
        if (!llm.Summaries || request.SessionKey is not { } key || request.ArchivedThrough == 0)
        {
            return new(request.SummaryThrough, false);
        }

        var (_, report) = await context.AssembleAsync(llm.SystemPrompt, request, llm.ContextTokenBudget, cancellation);
        if (report.ArchiveError is { } unavailable)
        {
            throw new InvalidOperationException($"The archive could not be read: {unavailable}");
        }

        if (report.LeftOutThrough - report.SummaryThrough < llm.SummaryTrigger)
        {
            return new(report.SummaryThrough, false);
        }

        using var span = ChatTelemetry.Start($"summarize {llm.Model ?? OfflineChatClient.ModelId}", ActivityKind.Client, request.TraceParent, request.SessionId, request.TurnId);
        var previous = report.SummaryThrough > 0 ? await archive.ReadSummaryAsync(key, cancellation) : null;
        var turns = await ReadRangeAsync(key, (previous?.Through ?? 0) + 1, report.LeftOutThrough, cancellation);
        int outputLimit = context.SummaryShareTokens(llm.ContextTokenBudget);
        string text = previous?.Text ?? "";
        foreach (var chunk in Chunks(turns, llm.ContextTokenBudget - outputLimit, text))
        {
            text = await FoldAsync(text, chunk, outputLimit, cancellation);
        }

        var summary = new ConversationSummary(report.LeftOutThrough, text, clock.GetUtcNow());
        await archive.WriteSummaryAsync(key, summary, cancellation);
        span?.SetTag("chat.summary.through", summary.Through);
        span?.SetTag("chat.summary.turns_added", turns.Count);
        return new(summary.Through, true);
    }

    async Task<List<TranscriptTurn>> ReadRangeAsync(string key, long from, long through, CancellationToken cancellation)
    {
        var turns = new List<TranscriptTurn>();
        long before = through + 1;
        while (before > from)
        {
            var page = await archive.ReadBeforeAsync(key, before, ContextAssembler.PageSize, cancellation);
            if (page.Count == 0)
            {
                break;
            }

            turns.AddRange(page.Where(t => t.Sequence >= from && t is { Status: TurnStatus.Completed, Answer: not null }).Reverse());
            before = page[0].Sequence;
        }

        turns.Reverse();
        return turns;
    }

    /// <summary>Runs of turns, in order, each small enough to go to the model with the instructions and the summary so far.</summary>
    IEnumerable<List<TranscriptTurn>> Chunks(List<TranscriptTurn> turns, int room, string summary)
    {
        int fixedCost = fitter.Count(ChatRole.System.Value, Instructions) + fitter.Count(ChatRole.User.Value, SoFar + "\n" + summary);
        var chunk = new List<TranscriptTurn>();
        int used = fixedCost;
        foreach (var turn in turns)
        {
            int cost = fitter.Count(ChatRole.User.Value, Render(turn));
            if (chunk.Count > 0 && used + cost > room)
            {
                yield return chunk;
                chunk = [];
                used = fixedCost;
            }

            chunk.Add(turn);
            used += cost;
        }

        if (chunk.Count > 0)
        {
            yield return chunk;
        }
    }

    async Task<string> FoldAsync(string summary, List<TranscriptTurn> turns, int outputLimit, CancellationToken cancellation)
    {
        var content = new StringBuilder().Append(SoFar).Append('\n').Append(summary.Length == 0 ? "(none yet)" : summary).Append("\n\n")
            .Append("Turns ").Append(turns[0].Sequence).Append(" to ").Append(turns[^1].Sequence).Append(":\n");
        foreach (var turn in turns)
        {
            content.Append(Render(turn));
        }

        try
        {
            var response = await chat.GetResponseAsync(
                [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, content.ToString())],
                new ChatOptions { MaxOutputTokens = outputLimit },
                cancellation);
            if (response.FinishReason == ChatFinishReason.ContentFilter || string.IsNullOrWhiteSpace(response.Text))
            {
                throw new ModelCallException(new(ModelFailure.ContentFiltered, "The summary was withheld or empty."));
            }

            return response.Text.Trim();
        }
        catch (Exception exception) when (ModelErrorClassifier.Classify(exception, cancellation) is { } failure)
        {
            throw exception as ModelCallException ?? new ModelCallException(failure, exception);
        }
    }

    static string Render(TranscriptTurn turn) => $"User: {turn.Message}\nAssistant: {turn.Answer}\n";
}
