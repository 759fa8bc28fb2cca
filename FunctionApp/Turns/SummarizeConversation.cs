using System.Diagnostics;
using System.Text;
using System.Text.Json.Serialization;
using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Llm;
using FunctionsChat.Telemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Turns;

/// <summary>A turn's prompt as assembled, with what the assembly found.</summary>
public sealed record AssembledContext(IReadOnlyList<ChatMessage> Prompt, ContextReport Report);

/// <summary>What the summary step left behind: the last turn the session's summary covers, and whether it wrote one.</summary>
public sealed record SummaryOutcome(
    [property: JsonPropertyName("through")] long Through,
    [property: JsonPropertyName("written")] bool Written)
{
    /// <summary>The model tokens (input plus output) the summary's model call reported.</summary>
    [JsonPropertyName("tokens")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Tokens { get; init; }
}

/// <summary>
/// A turn's summary step, before its model call: when at least <see cref="LlmOptions.SummaryTrigger"/> turns have
/// fallen out of the model's context since the session's summary was written, the model folds them into it (the
/// previous summary plus the oldest turns newly left out, in order, a context's worth, one model call) and the new
/// summary, covering turns 1..N exactly, replaces the old in the session's archive; a long backlog catches up over
/// the next turns. Its own activity, retried like any model call; the transcript keeps every word.
/// </summary>
public sealed class SummarizeConversation(IChatClient chat, ContextAssembler context, ContextFitter fitter, ITranscriptArchive archive, ITurnStreams streams, IOptions<LlmOptions> options, TimeProvider clock, IOptions<FunctionsChat.Quota.QuotaOptions>? quota = null)
{
    public const string Instructions =
        "You keep the memory of a long conversation between a user and an assistant. Rewrite the summary so far, "
        + "adding the turns given, into one concise summary: who the user is, what they asked for, decisions, facts, "
        + "names, numbers and open questions. Write only the summary.";

    public const string SoFar = "Summary so far:";

    [Function(nameof(SummarizeConversation))]
    public async Task<SummaryOutcome> Run([ActivityTrigger] ReplyRequest request, [DurableClient] DurableTaskClient? client, CancellationToken cancellation)
    {
        // The summary's model call is watched like the answer's: a turn the session stops stops here too.
        await using var watch = TurnWatch.For(client, streams, request, clock);
        if (watch is not null && !await watch.BeginAsync(cancellation))
        {
            return new(request.SummaryThrough, false);
        }

        using var model = CancellationTokenSource.CreateLinkedTokenSource(cancellation, watch?.Stopped ?? CancellationToken.None);
        try
        {
            var outcome = (await SummarizeAsync(request, model.Token)).Outcome;
            if (client is not null && quota?.Value.TokensPerPeriod > 0 && request.SessionKey is { } key)
            {
                // The summary's model call is the caller's use too.
                await FunctionsChat.Quota.QuotaStore.ChargeAsync(client, key, new TokenCharge(outcome.Tokens, clock.GetUtcNow()), cancellation);
            }

            return outcome;
        }
        catch (Exception) when (watch?.Stopped.IsCancellationRequested == true && !cancellation.IsCancellationRequested)
        {
            return new(request.SummaryThrough, false);
        }
    }

    /// <summary>
    /// The summary step inside the model activity, before the answer: its failure does not fail the answer, which goes
    /// on with the summary it had and says why (as a failed summary activity does); a stop ends it quietly.
    /// </summary>
    /// <returns>
    /// The step's outcome, and the answer's prompt when the step assembled it and wrote nothing (the usual case): the
    /// answer then uses it rather than reading the archive again.
    /// </returns>
    public async Task<(ModelReply Outcome, AssembledContext? Context)> BeforeAnswerAsync(ReplyRequest request, CancellationToken stop, CancellationToken cancellation)
    {
        using var model = CancellationTokenSource.CreateLinkedTokenSource(cancellation, stop);
        try
        {
            var (outcome, assembled) = await SummarizeAsync(request, model.Token);
            return (Unanswered(outcome.Through, null) with { SummaryTokens = outcome.Tokens }, !outcome.Written && outcome.Through == request.SummaryThrough ? assembled : null);
        }
        catch (Exception exception) when (!cancellation.IsCancellationRequested)
        {
            string? warning = stop.IsCancellationRequested
                ? null
                : $"{ErrorCodes.SummaryFailed}: {(ModelErrorClassifier.Classify(exception, cancellation) ?? new ModelFailure(ErrorCodes.ActivityFailed, exception.Message)).Code}";
            return (Unanswered(request.SummaryThrough, warning), null);
        }

        static ModelReply Unanswered(long through, string? warning) => new("", "", new TokenUsage(0, 0), null) { SummaryThrough = through, Warning = warning };
    }

    async Task<(SummaryOutcome Outcome, AssembledContext? Context)> SummarizeAsync(ReplyRequest request, CancellationToken cancellation)
    {
        var llm = options.Value;
        if (!llm.Summaries || request.SessionKey is not { } key || request.ArchivedLineFrom == 0)
        {
            return (new(request.SummaryThrough, false), null);
        }

        var (prompt, report) = await context.AssembleAsync(llm.SystemPrompt, request, llm.ContextTokenBudget, cancellation);
        if (report.ArchiveError is { } unavailable)
        {
            throw new InvalidOperationException($"The archive could not be read: {unavailable}");
        }

        if (report.LeftOutThrough - report.SummaryThrough < llm.SummaryTrigger)
        {
            return (new(report.SummaryThrough, false), new(prompt, report));
        }

        using var span = ChatTelemetry.Start($"summarize {llm.Model ?? OfflineChatClient.ModelId}", ActivityKind.Client, request.TraceParent, request.SessionId, request.TurnId);
        string text = report.Summary?.Text ?? "";
        int outputLimit = context.SummaryShareTokens(llm.ContextTokenBudget);

        // One context's worth of the oldest turns not yet summarised per turn: the summary is written after it, so a
        // long backlog is caught up over the next turns and no attempt grows past one model call.
        var (chunk, through) = await NextChunkAsync(key, report.SummaryThrough, report.LeftOutThrough, llm.ContextTokenBudget - outputLimit, text, cancellation);
        long tokens = 0;
        if (chunk.Count > 0)
        {
            (text, tokens) = await FoldAsync(text, chunk, outputLimit, cancellation);
        }

        var summary = new ConversationSummary(through, text, clock.GetUtcNow()) { Generation = request.Generation };
        await archive.WriteSummaryAsync(key, summary, cancellation);
        span?.SetTag("chat.summary.through", summary.Through);
        span?.SetTag("chat.summary.turns_added", chunk.Count);
        return (new(summary.Through, true) { Tokens = tokens }, null);
    }

    /// <summary>
    /// The oldest completed turns of the line after <paramref name="floor"/> (the summary so far) up to
    /// <paramref name="leftOutThrough"/> that fit <paramref name="room"/> tokens beside the instructions and the
    /// summary so far, in order (a single turn too large alone is clipped for the summariser; the transcript keeps it
    /// whole), and the last turn the new summary covers.
    /// </summary>
    async Task<(List<TranscriptTurn> Chunk, long Through)> NextChunkAsync(string key, long floor, long leftOutThrough, int room, string summary, CancellationToken cancellation)
    {
        int used = fitter.Count(ChatRole.System.Value, Instructions) + fitter.Count(ChatRole.User.Value, SoFar + "\n" + summary);
        var line = new List<TranscriptTurn>();
        await foreach (var turn in ArchiveLine.ReadAsync(archive, key, leftOutThrough, floor, cancellation))
        {
            line.Add(turn);
        }

        line.Reverse();
        var chunk = new List<TranscriptTurn>();
        long through = floor;
        foreach (var turn in line)
        {
            if (turn.Answer is null || !SessionQueries.InConversation(turn))
            {
                through = turn.Sequence;
                continue;
            }

            var shown = chunk.Count == 0 ? Clip(turn, room - used) : turn;
            int cost = fitter.Count(ChatRole.User.Value, Render(shown));
            if (chunk.Count > 0 && used + cost > room)
            {
                return (chunk, through);
            }

            chunk.Add(shown);
            used += cost;
            through = turn.Sequence;
        }

        return (chunk, leftOutThrough);
    }

    /// <summary>A turn whose rendering is over <paramref name="tokens"/>, cut proportionally until it fits.</summary>
    TranscriptTurn Clip(TranscriptTurn turn, int tokens)
    {
        for (int attempt = 0; attempt < 4; attempt++)
        {
            int cost = fitter.Count(ChatRole.User.Value, Render(turn));
            if (cost <= tokens || tokens <= 0)
            {
                return turn;
            }

            double keep = (double)tokens / cost * 0.9;
            turn = turn with
            {
                Message = Cut(turn.Message, keep),
                Answer = turn.Answer is null ? null : Cut(turn.Answer, keep),
            };
        }

        return turn;
    }

    static string Cut(string text, double keep) => text.Length < 16 ? text : text[..(int)(text.Length * keep)] + " [cut]";

    /// <returns>The new summary, and the tokens (input plus output) its model call reported.</returns>
    async Task<(string Text, long Tokens)> FoldAsync(string summary, List<TranscriptTurn> turns, int outputLimit, CancellationToken cancellation)
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

            return (response.Text.Trim(), (response.Usage?.InputTokenCount ?? 0) + (response.Usage?.OutputTokenCount ?? 0));
        }
        catch (Exception exception) when (ModelErrorClassifier.Classify(exception, cancellation) is { } failure)
        {
            throw exception as ModelCallException ?? new ModelCallException(failure, exception);
        }
    }

    static string Render(TranscriptTurn turn) => $"User: {turn.Message}\nAssistant: {turn.Answer}\n";
}
