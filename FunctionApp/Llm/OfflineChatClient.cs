using Microsoft.Extensions.AI;

namespace FunctionsChat.Llm;

/// <summary>
/// A deterministic stand-in for a model, for running locally before any key exists: it answers with a short
/// account of what it was sent and reports token usage counted by the real tokenizer. Replies are not from a model.
/// </summary>
public sealed class OfflineChatClient(ContextFitter counter) : IChatClient
{
    public const string ModelId = "offline";

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var prompt = messages.ToList();
        string last = prompt.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
        int earlier = prompt.Count(m => m.Role == ChatRole.User) - 1;
        string quoted = last.Length > 80 ? last[..80] + "…" : last;
        string text = prompt.FirstOrDefault()?.Text == Turns.SummarizeConversation.Instructions
            ? Summary(last)
            : $"(offline model) You said: \"{quoted}\". I can see {earlier} earlier message{(earlier == 1 ? "" : "s")} of yours in this session.";

        var reply = new ChatMessage(ChatRole.Assistant, text);
        var response = new ChatResponse(reply)
        {
            ModelId = ModelId,
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails
            {
                InputTokenCount = counter.Count(prompt),
                OutputTokenCount = counter.Count(reply.Role.Value, text) - ContextFitter.TokensPerMessage,
            },
        };
        return Task.FromResult(response);
    }

    /// <summary>A deterministic summary: the summary so far, then one line for each user message it is given.</summary>
    static string Summary(string request)
    {
        var lines = request.Split('\n');
        var kept = lines.Skip(1).TakeWhile(l => l.Length > 0).Where(l => l != "(none yet)");
        var added = lines.Where(l => l.StartsWith("User: ", StringComparison.Ordinal))
            .Select(l => l["User: ".Length..])
            .Select(m => "- the user said: " + (m.Length > 60 ? m[..60] + "…" : m));
        return "(offline summary)\n" + string.Join('\n', kept.Where(l => l != "(offline summary)").Concat(added));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
