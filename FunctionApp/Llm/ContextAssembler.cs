using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Turns;
using Microsoft.Extensions.AI;

namespace FunctionsChat.Llm;

/// <summary>What went into a prompt besides the working set, for the turn's telemetry.</summary>
public sealed record ContextReport(int ArchivedTurns, int ArchiveReads, string? ArchiveError);

/// <summary>
/// Gathers a turn's prompt where I/O is allowed (the model activity): the working set the turn started with and,
/// while the token budget allows, older completed turns from the archive, newest first, a page at a time. The
/// newest whole turns that fit are kept, archived or not, in order; a turn is never cut or repeated.
/// </summary>
public sealed class ContextAssembler(ContextFitter fitter, ITranscriptArchive archive)
{
    public const int PageSize = 64;

    public async Task<(IReadOnlyList<ChatMessage> Prompt, ContextReport Report)> AssembleAsync(string systemPrompt, ReplyRequest request, int budget, CancellationToken cancellation)
    {
        int remaining = budget - fitter.Count([new(ChatRole.System, systemPrompt), new(ChatRole.User, request.Message)])
            - request.History.Sum(m => fitter.Count(m.Role, m.Content));
        var older = new List<TranscriptTurn>();
        int reads = 0;
        string? error = null;
        if (request.SessionKey is { } key && request.ArchivedThrough > 0 && remaining > 0)
        {
            try
            {
                long before = request.ArchivedThrough + 1;
                bool full = false;
                while (!full && before > 1)
                {
                    var page = await archive.ReadBeforeAsync(key, before, PageSize, cancellation);
                    reads++;
                    if (page.Count == 0)
                    {
                        break;
                    }

                    for (int i = page.Count - 1; i >= 0 && !full; i--)
                    {
                        if (page[i] is not { Status: TurnStatus.Completed, Answer: { } answer } turn)
                        {
                            continue;
                        }

                        int cost = fitter.Count(ConversationMessage.User, turn.Message) + fitter.Count(ConversationMessage.Assistant, answer);
                        full = cost > remaining;
                        if (!full)
                        {
                            remaining -= cost;
                            older.Add(turn);
                        }
                    }

                    before = page[0].Sequence;
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The turn is still answered, from the working set alone; the trace says what was left out and why.
                older.Clear();
                error = exception.Message;
            }
        }

        older.Reverse();
        var history = older.SelectMany(t => new ConversationMessage[] { new(ConversationMessage.User, t.Message), new(ConversationMessage.Assistant, t.Answer!) })
            .Concat(request.History)
            .ToList();
        return (fitter.Fit(systemPrompt, history, request.Message, budget), new ContextReport(older.Count, reads, error));
    }
}
