using System.ComponentModel.DataAnnotations;

namespace FunctionsChat.Llm;

public enum LlmProvider
{
    /// <summary>A deterministic built-in model: no account, no network. Replies are not from a model.</summary>
    Offline,

    /// <summary>An Azure OpenAI resource and deployment, by managed identity or API key.</summary>
    AzureOpenAI,

    /// <summary>Any OpenAI-compatible chat-completions endpoint: OpenAI itself, Ollama, vLLM and the like.</summary>
    OpenAI,
}

/// <summary>The <c>Llm</c> configuration section.</summary>
public sealed class LlmOptions
{
    public const string Section = "Llm";

    public LlmProvider Provider { get; set; } = LlmProvider.Offline;

    /// <summary>Azure OpenAI resource endpoint, or the OpenAI-compatible base URL (for example http://localhost:11434/v1).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Azure OpenAI deployment name, or the model name for an OpenAI-compatible endpoint.</summary>
    public string? Model { get; set; }

    /// <summary>Optional. Without it, Azure OpenAI is reached with a managed identity.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Client id of a user-assigned managed identity; empty for the system-assigned one or a developer login.</summary>
    public string? ManagedIdentityClientId { get; set; }

    [Required(AllowEmptyStrings = false)]
    public string SystemPrompt { get; set; } = "You are a helpful assistant. Answer briefly and precisely.";

    /// <summary>Time one model call may take; the Durable retry policy decides what happens after.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Tokens the prompt (system prompt, history, new message) may use; the oldest turns are left out past it.</summary>
    [Range(64, 2_000_000)]
    public int ContextTokenBudget { get; set; } = 100_000;

    [Range(1, 1_000_000)]
    public int? MaxOutputTokens { get; set; }

    /// <summary>Whether turns that no longer fit the context are summarised by the model, so the prompt keeps their gist.</summary>
    public bool Summaries { get; set; } = true;

    /// <summary>The share of <see cref="ContextTokenBudget"/> a summary may take (its output limit).</summary>
    [Range(0.05, 0.5)]
    public double SummaryShare { get; set; } = 0.2;

    /// <summary>How many turns must have fallen out of the context since the summary was written before it is brought up to date.</summary>
    [Range(1, 1000)]
    public int SummaryTrigger { get; set; } = 8;
}
