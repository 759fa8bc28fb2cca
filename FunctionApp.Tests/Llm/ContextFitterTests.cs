using FunctionsChat.Domain;
using FunctionsChat.Llm;
using Microsoft.Extensions.AI;

namespace FunctionsChat.Tests.Llm;

public class ContextFitterTests
{
    static readonly ContextFitter Fitter = new(ContextFitter.CreateTokenizer());

    [Theory]
    [InlineData("<", 32_768)]
    [InlineData("漢", 10_922)]
    [InlineData("😀", 8_192)]
    [InlineData("<b>&amp;</b> ", 2_500)]
    [InlineData("The quick brown fox jumps over the lazy dog. ", 700)]
    public void A_long_text_counted_in_pieces_is_never_counted_low_and_at_most_one_percent_high(string unit, int repeat)
    {
        var tokenizer = ContextFitter.CreateTokenizer();
        string text = string.Concat(Enumerable.Repeat(unit, repeat));
        int exact = tokenizer.CountTokens(text);

        int counted = Fitter.Count("user", text) - ContextFitter.TokensPerMessage - tokenizer.CountTokens("user");

        Assert.InRange(counted, exact, exact + (exact / 100) + 1);
    }

    static List<ConversationMessage> History(int turns) =>
        Enumerable.Range(1, turns).SelectMany(i => new ConversationMessage[]
        {
            new("user", $"Question {i}: what is durable execution, in {i % 7 + 1} sentences?"),
            new("assistant", $"Answer {i}: " + string.Join(' ', Enumerable.Repeat("Durable execution persists each step so work resumes after a crash.", i % 5 + 1))),
        }).ToList();

    [Theory]
    [InlineData(10)]
    [InlineData(100)]
    [InlineData(1_000)]
    [InlineData(10_000)]
    public void The_fitted_prompt_stays_within_budget_keeps_system_and_newest_message_and_never_splits_a_turn(int turns)
    {
        const int budget = 4_000;
        var history = History(turns);

        var prompt = Fitter.Fit("Be brief.", history, "And now?", budget);

        Assert.True(Fitter.Count(prompt) <= budget, $"{Fitter.Count(prompt)} tokens over a budget of {budget}");
        Assert.Equal((ChatRole.System, "Be brief."), (prompt[0].Role, prompt[0].Text));
        Assert.Equal((ChatRole.User, "And now?"), (prompt[^1].Role, prompt[^1].Text));
        var kept = prompt.Skip(1).SkipLast(1).Select(m => new ConversationMessage(m.Role.Value, m.Text)).ToList();
        Assert.Equal(0, kept.Count % 2);
        Assert.True(kept.Count == 0 || kept[0].Role == "user");
        Assert.Equal(history.Skip(history.Count - kept.Count), kept); // the newest whole turns, in order
    }

    [Fact]
    public void The_next_older_turn_is_left_out_only_because_it_would_not_fit()
    {
        var history = History(200);

        var prompt = Fitter.Fit("Be brief.", history, "And now?", 5_000);

        int keptMessages = prompt.Count - 2;
        Assert.True(keptMessages < history.Count);
        int olderTurnCost = Fitter.Count(history[^(keptMessages + 2)].Role, history[^(keptMessages + 2)].Content)
            + Fitter.Count(history[^(keptMessages + 1)].Role, history[^(keptMessages + 1)].Content);
        Assert.True(Fitter.Count(prompt) + olderTurnCost > 5_000);
    }

    [Fact]
    public void A_history_within_budget_is_kept_whole()
    {
        var history = History(10);

        Assert.Equal(history.Count + 2, Fitter.Fit("Be brief.", history, "And now?", 100_000).Count);
    }

    [Fact]
    public void The_count_includes_the_per_message_overhead_of_the_chat_format()
    {
        var one = new[] { new ChatMessage(ChatRole.User, "hello") };

        Assert.Equal(ContextFitter.TokensForReplyPriming + ContextFitter.TokensPerMessage + 2, Fitter.Count(one)); // "user" and "hello" are one token each
    }

    [Fact]
    public void A_newest_message_that_alone_exceeds_the_budget_fails_permanently()
    {
        var error = Assert.Throws<ModelCallException>(() => Fitter.Fit("Be brief.", [], string.Join(' ', Enumerable.Repeat("token", 500)), 100));

        Assert.Equal(ModelFailure.ContextTooLong, error.Failure.Code);
        Assert.False(error.Failure.IsTransient);
    }

    [Fact]
    public async Task The_offline_model_answers_deterministically_with_token_usage_from_the_tokenizer()
    {
        var offline = new OfflineChatClient(Fitter);
        var prompt = Fitter.Fit("Be brief.", History(3), "Write a poem", 100_000);

        var first = await offline.GetResponseAsync(prompt);
        var second = await offline.GetResponseAsync(prompt);

        Assert.Equal(first.Text, second.Text);
        Assert.Contains("Write a poem", first.Text);
        Assert.Equal(OfflineChatClient.ModelId, first.ModelId);
        Assert.Equal(Fitter.Count(prompt), first.Usage?.InputTokenCount);
        Assert.True(first.Usage?.OutputTokenCount > 0);
    }
}
