using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Turns;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Llm;

/// <summary>What went into a prompt besides the working set, for the turn's telemetry and for summarising.</summary>
/// <param name="Summary">The summary shown, if any.</param>
/// <param name="LeftOutThrough">The newest archived turn that did not fit beside a summary's share; 0 when everything fits.</param>
public sealed record ContextReport(int ArchivedTurns, int ArchiveReads, string? ArchiveError, ConversationSummary? Summary = null, long LeftOutThrough = 0)
{
    /// <summary>The last turn the summary shown covers; 0 without one.</summary>
    public long SummaryThrough => Summary?.Through ?? 0;
}

/// <summary>
/// Gathers a turn's prompt where I/O is allowed (the model activities): the system prompt, the session's summary of
/// its earliest turns when one exists, then the newest whole completed turns that fit the token budget, from the
/// archive and the working set alike, in order, then the new message. A turn is never cut or repeated. When the
/// turns after the summary do not all fit, the summary's share of the budget is set aside for it, and
/// <see cref="ContextReport.LeftOutThrough"/> says which turns a summary should cover.
/// </summary>
public sealed class ContextAssembler(ContextFitter fitter, ITranscriptArchive archive, IOptions<LlmOptions> options)
{
    public const int PageSize = ArchiveLine.PageSize;

    /// <summary>How a summary is put before the turns it precedes.</summary>
    public static string SummaryMessage(ConversationSummary summary) =>
        $"Summary of this conversation's turns 1 to {summary.Through}, which come before the messages below:\n{summary.Text}";

    public async Task<(IReadOnlyList<ChatMessage> Prompt, ContextReport Report)> AssembleAsync(string systemPrompt, ReplyRequest request, int budget, CancellationToken cancellation)
    {
        var llm = options.Value;
        if (request.SessionKey is { } sessionKey)
        {
            // Words the turn's input carried only by key are read back first.
            request = request with
            {
                // Never an empty message in the model's place: a message whose stored copy is gone fails the turn.
                Message = await StoredTexts.FindAsync(archive, sessionKey, request.Message, request.MessageRef, cancellation)
                    ?? throw new ModelCallException(new(ModelFailure.TextMissing, "The message's stored words are gone: the session was deleted, or the request was refused.")),
                History = await StoredTexts.FillAsync(archive, sessionKey, request.History, cancellation),
            };
        }

        // Each message is counted once, here; the fitter is given the counts.
        var workingCosts = request.History.Select(m => fitter.Count(m.Role, m.Content)).ToArray();
        int fixedCost = fitter.Count([new(ChatRole.System, systemPrompt), new(ChatRole.User, request.Message)]) + workingCosts.Sum();
        var older = new List<(TranscriptTurn Turn, int UserCost, int AssistantCost)>();
        int reads = 0;
        string? error = null;
        ConversationSummary? summary = null;
        bool full = false;
        long lineFrom = request.ArchivedLineFrom;
        if (request.SessionKey is { } key && lineFrom > 0 && fixedCost < budget)
        {
            try
            {
                if (llm.Summaries)
                {
                    // Only this life's summary, of turns the archive holds, and only when it fits beside the message.
                    var stored = await archive.ReadSummaryAsync(key, cancellation);
                    summary = stored is { } found && found.Belongs(request.Generation, lineFrom)
                        && fixedCost + SummaryCost(found) <= budget ? found : null;
                }

                // The turns of the line, newest first, down to the summary's last turn if the line passes through it
                // (a summary of another branch's turns is not this line's: it is set aside when the line passes by).
                // Once the budget is full the line is still followed (without its words counted) down to the summary,
                // to tell whether the summary is this line's: in a session that never branched, the few turns left
                // out since the summary was brought up to date.
                int remaining = budget - fixedCost - SummaryCost(summary);
                bool throughSummary = false;
                await foreach (var turn in ArchiveLine.ReadAsync(archive, key, lineFrom, 0, cancellation, () => reads++))
                {
                    if (summary is not null && turn.Sequence <= summary.Through)
                    {
                        throughSummary = turn.Sequence == summary.Through;
                        if (throughSummary)
                        {
                            break;
                        }

                        remaining += SummaryCost(summary);
                        summary = null;
                    }

                    if (full || turn is not { Answer: { } answer } || !SessionQueries.InConversation(turn))
                    {
                        if (full && summary is null)
                        {
                            break;
                        }

                        continue;
                    }

                    int userCost = fitter.Count(ConversationMessage.User, turn.Message);
                    int assistantCost = fitter.Count(ConversationMessage.Assistant, answer);
                    full = userCost + assistantCost > remaining;
                    if (!full)
                    {
                        remaining -= userCost + assistantCost;
                        older.Add((turn, userCost, assistantCost));
                    }
                }

                if (summary is not null && !throughSummary)
                {
                    // The line ended above the summary's last turn without passing through it.
                    summary = null;
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The turn is still answered, from the working set alone; the trace says what was left out and why.
                older.Clear();
                summary = null;
                full = false;
                error = exception.Message;
            }
        }

        long leftOutThrough = 0;
        if (full && llm.Summaries)
        {
            // Not everything after the summary fits: set its share aside (for the summary to come, if larger than
            // the one there is), dropping the oldest turns that no longer fit beside it.
            int share = Math.Max(SummaryCost(summary), SummaryShareTokens(budget));
            int room = budget - fixedCost - share;
            int used = older.Sum(t => t.UserCost + t.AssistantCost);
            while (older.Count > 0 && used > room)
            {
                used -= older[^1].UserCost + older[^1].AssistantCost;
                older.RemoveAt(older.Count - 1);
            }

            // The newest turn of the line left out: the one before the oldest shown (a summary should cover it).
            leftOutThrough = older.Count > 0 ? Branches.ParentOf(older[^1].Turn) : lineFrom;
        }

        older.Reverse();
        var history = older.SelectMany(t => new ConversationMessage[] { new(ConversationMessage.User, t.Turn.Message), new(ConversationMessage.Assistant, t.Turn.Answer!) })
            .Concat(request.History)
            .ToList();
        var costs = older.SelectMany(t => new[] { t.UserCost, t.AssistantCost }).Concat(workingCosts).ToList();
        var prompt = fitter.Fit(systemPrompt, history, request.Message, budget, summary is null ? null : SummaryMessage(summary), costs);
        return (prompt, new ContextReport(older.Count, reads, error, summary, leftOutThrough));
    }

    /// <summary>The tokens a summary may take: its share of the budget.</summary>
    public int SummaryShareTokens(int budget) => (int)(budget * options.Value.SummaryShare);

    int SummaryCost(ConversationSummary? summary) => summary is null ? 0 : fitter.Count(ChatRole.System.Value, SummaryMessage(summary));
}
