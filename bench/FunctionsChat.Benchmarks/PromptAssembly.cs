using BenchmarkDotNet.Attributes;
using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Llm;
using FunctionsChat.Turns;

namespace FunctionsChat.Benchmarks;

/// <summary>
/// What the model activity spends assembling the prompt of the next turn of a long session: the working set from
/// its input, older turns from the archive newest first until the 100,000-token budget is spent, all counted with
/// the o200k_base tokenizer. The archive answers from memory, so this is the CPU cost; <see cref="ArchiveReads"/>
/// gives the table reads a turn adds.
/// </summary>
[MemoryDiagnoser]
public class PromptAssembly
{
    const int Budget = 100_000;
    static readonly ContextFitter Fitter = new(ContextFitter.CreateTokenizer());

    ContextAssembler assembler = null!;
    ReplyRequest request = null!;

    [Params(10, 100, 1_000, 10_000)]
    public int Turns { get; set; }

    [GlobalSetup]
    public void Setup() => (assembler, request, _) = Build(Turns);

    [Benchmark]
    public async Task<int> AssembleNextPrompt() => (await assembler.AssembleAsync("You are a helpful assistant.", request, Budget, CancellationToken.None)).Prompt.Count;

    /// <summary>The archive reads and the turns shown for the next turn of a session this long.</summary>
    public static async Task<(int Reads, int Shown)> ArchiveReads(int turns)
    {
        var (assembler, request, archive) = Build(turns);
        var (prompt, report) = await assembler.AssembleAsync("You are a helpful assistant.", request, Budget, CancellationToken.None);
        return (archive.Reads, (prompt.Count - 2) / 2);
    }

    static (ContextAssembler, ReplyRequest, PagedArchive) Build(int turns)
    {
        // 3 KB answers; the newest ten turns in the working set, the rest archived.
        int working = Math.Min(10, turns);
        var all = Enumerable.Range(1, turns).Select(i => new TranscriptTurn($"turn-{i:D6}", i, TurnStatus.Completed, Sessions.Question(i), Fingerprint.Of(Sessions.Question(i)), Sessions.Start, Sessions.Start)
        {
            Answer = string.Concat(Enumerable.Repeat(Sessions.Answer(i) + " ", 8))[..3000],
        }).ToArray();
        var archive = new PagedArchive(all[..^working]);
        var history = all[^working..].SelectMany(t => new ConversationMessage[] { new(ConversationMessage.User, t.Message), new(ConversationMessage.Assistant, t.Answer!) }).ToArray();
        var request = new ReplyRequest("session123", $"turn-{turns + 1:D6}", history, Sessions.Question(turns + 1))
        {
            SessionKey = "anonymous/session123",
            ArchivedThrough = turns - working,
        };
        return (new ContextAssembler(Fitter, archive, Microsoft.Extensions.Options.Options.Create(new LlmOptions())), request, archive);
    }

    /// <summary>Archived turns in sequence order, served a page at a time as the table range query serves them.</summary>
    sealed class PagedArchive(TranscriptTurn[] turns) : ITranscriptArchive
    {
        public int Reads { get; private set; }

        public Task<IReadOnlyList<TranscriptTurn>> ReadBeforeAsync(string sessionKey, long beforeSequence, int limit, CancellationToken cancellation)
        {
            Reads++;
            int end = (int)Math.Min(beforeSequence - 1, turns.Length);
            int start = Math.Max(0, end - limit);
            return Task.FromResult<IReadOnlyList<TranscriptTurn>>(turns[start..end]);
        }

        public Task WriteAsync(string sessionKey, IReadOnlyList<TranscriptTurn> turns, CancellationToken cancellation) => throw new NotSupportedException();

        public Task<int> DeleteAsync(string sessionKey, Erasure erasure, CancellationToken cancellation) => throw new NotSupportedException();

        public Task WriteTextAsync(string sessionKey, string key, string text, CancellationToken cancellation) => throw new NotSupportedException();

        public Task<string?> ReadTextAsync(string sessionKey, string key, CancellationToken cancellation) => throw new NotSupportedException();

        public Task DeleteTextAsync(string sessionKey, string key, CancellationToken cancellation) => throw new NotSupportedException();

        public Task<ConversationSummary?> ReadSummaryAsync(string sessionKey, CancellationToken cancellation) => Task.FromResult<ConversationSummary?>(null);

        public Task WriteSummaryAsync(string sessionKey, ConversationSummary summary, CancellationToken cancellation) => throw new NotSupportedException();
    }
}
