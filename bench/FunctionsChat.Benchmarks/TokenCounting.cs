using BenchmarkDotNet.Attributes;
using FunctionsChat.Llm;
using Microsoft.ML.Tokenizers;

namespace FunctionsChat.Benchmarks;

/// <summary>
/// Counting the tokens of one 32 KiB message: the tokenizer over the whole text, against the fitter's count in pieces.
/// Runs the pre-tokenizer cannot split (<c>&lt;</c>, CJK, emoji) make the whole-text count quadratic in their length.
/// </summary>
[MemoryDiagnoser]
public class TokenCounting
{
    static readonly Tokenizer Tokenizer = ContextFitter.CreateTokenizer();
    static readonly ContextFitter Fitter = new(Tokenizer);
    string text = "";

    [Params("<", "漢", "😀", "prose")]
    public string Unit { get; set; } = "<";

    [GlobalSetup]
    public void Setup()
    {
        string unit = Unit == "prose" ? "The quick brown fox jumps over the lazy dog. " : Unit;
        text = string.Concat(Enumerable.Repeat(unit, 32 * 1024 / System.Text.Encoding.UTF8.GetByteCount(unit)));
    }

    [Benchmark(Baseline = true)]
    public int WholeText() => Tokenizer.CountTokens(text);

    [Benchmark]
    public int InPieces() => Fitter.Count("user", text);
}
