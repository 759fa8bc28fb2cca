using FunctionsChat.Domain;
using FunctionsChat.Llm;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Turns;

/// <summary>
/// The model call: the only I/O of a turn. Its failures leave as <see cref="ModelCallException"/> so the
/// orchestration's retry handler sees them; nothing here retries.
/// </summary>
public sealed class GenerateReply(IChatClient chat, ContextFitter fitter, IOptions<LlmOptions> options)
{
    [Function(nameof(GenerateReply))]
    public async Task<ModelReply> Run([ActivityTrigger] ReplyRequest request, CancellationToken cancellation)
    {
        var llm = options.Value;
        var prompt = fitter.Fit(llm.SystemPrompt, request.History, request.Message, llm.ContextTokenBudget);
        var chatOptions = new ChatOptions { MaxOutputTokens = llm.MaxOutputTokens };

        ChatResponse response;
        try
        {
            response = await chat.GetResponseAsync(prompt, chatOptions, cancellation);
        }
        catch (Exception exception) when (ModelErrorClassifier.Classify(exception, cancellation) is { } failure)
        {
            throw new ModelCallException(failure, exception);
        }

        var usage = new TokenUsage(response.Usage?.InputTokenCount ?? 0, response.Usage?.OutputTokenCount ?? 0);
        return new ModelReply(response.Text, response.ModelId ?? llm.Model ?? llm.Provider.ToString(), usage, response.FinishReason?.Value);
    }
}
