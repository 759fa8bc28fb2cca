using FunctionsChat.Domain;
using FunctionsChat.Llm;
using FunctionsChat.Turns;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Moq;

namespace FunctionsChat.Tests.Turns;

public class GenerateReplyTests
{
    static readonly ContextFitter Fitter = new(ContextFitter.CreateTokenizer());

    static readonly ReplyRequest Request = new("session123", "t3", [new("user", "first"), new("assistant", "one"), new("user", "second"), new("assistant", "two")], "third");

    static (GenerateReply Activity, Mock<IChatClient> Chat, List<ChatMessage> Sent) Activity(LlmOptions? options = null)
    {
        var sent = new List<ChatMessage>();
        var chat = new Mock<IChatClient>(MockBehavior.Strict);
        chat.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Callback<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken>((m, _, _) => sent.AddRange(m))
            .ReturnsAsync(new ChatResponse(new ChatMessage(ChatRole.Assistant, "the answer"))
            {
                ModelId = "gpt-4o-mini-2024-07-18",
                FinishReason = ChatFinishReason.Stop,
                Usage = new UsageDetails { InputTokenCount = 120, OutputTokenCount = 30 },
            });
        var llm = options ?? new LlmOptions { SystemPrompt = "Be brief." };
        return (new GenerateReply(chat.Object, Fitter, Options.Create(llm), FunctionsChat.Tests.Telemetry.TestTelemetry.Create()), chat, sent);
    }

    [Fact]
    public async Task The_model_is_sent_the_system_prompt_first_then_the_history_in_order_then_the_new_message()
    {
        var (activity, _, sent) = Activity();

        await activity.Run(Request, CancellationToken.None);

        Assert.Equal(
            [("system", "Be brief."), ("user", "first"), ("assistant", "one"), ("user", "second"), ("assistant", "two"), ("user", "third")],
            sent.Select(m => (m.Role.Value, m.Text)));
    }

    [Fact]
    public async Task The_reply_text_model_and_token_usage_are_returned()
    {
        var (activity, _, _) = Activity();

        var reply = await activity.Run(Request, CancellationToken.None);

        Assert.Equal(new ModelReply("the answer", "gpt-4o-mini-2024-07-18", new TokenUsage(120, 30), "stop"), reply);
    }

    [Fact]
    public async Task A_network_failure_leaves_the_activity_as_a_transient_model_failure()
    {
        var (activity, chat, _) = Activity();
        chat.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new HttpRequestException("Connection refused"));

        var error = await Assert.ThrowsAsync<ModelCallException>(() => activity.Run(Request, CancellationToken.None));

        Assert.Equal(ModelFailure.Network, error.Failure.Code);
        Assert.True(error.Failure.IsTransient);
        Assert.StartsWith("[llm.network]", error.Message);
    }

    [Fact]
    public async Task A_message_that_alone_exceeds_the_token_budget_fails_permanently_without_calling_the_model()
    {
        var (activity, chat, _) = Activity(new LlmOptions { SystemPrompt = "Be brief.", ContextTokenBudget = 64 });

        var error = await Assert.ThrowsAsync<ModelCallException>(() => activity.Run(Request with { Message = string.Join(' ', Enumerable.Repeat("word", 200)) }, CancellationToken.None));

        Assert.Equal(ModelFailure.ContextTooLong, error.Failure.Code);
        Assert.False(error.Failure.IsTransient);
        chat.Verify(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}
