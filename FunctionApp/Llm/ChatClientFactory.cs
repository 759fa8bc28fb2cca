using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.AI.OpenAI;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.AI;
using OpenAI;

namespace FunctionsChat.Llm;

/// <summary>
/// Builds the <see cref="IChatClient"/> for the configured provider. The SDK's own retries are off and its network
/// timeout is the per-attempt timeout: the Durable retry of the activity is the only retry layer.
/// </summary>
public static class ChatClientFactory
{
    public static IChatClient Create(LlmOptions options, ContextFitter counter, TokenCredential? credential = null) => options.Provider switch
    {
        LlmProvider.Offline => new OfflineChatClient(counter),
        LlmProvider.AzureOpenAI => CreateAzureOpenAI(options, credential),
        LlmProvider.OpenAI => CreateOpenAICompatible(options),
        _ => throw new InvalidOperationException($"Llm:Provider '{options.Provider}' is not supported."),
    };

    static IChatClient CreateAzureOpenAI(LlmOptions options, TokenCredential? credential)
    {
        var clientOptions = Configure(new AzureOpenAIClientOptions(), options);
        var client = string.IsNullOrEmpty(options.ApiKey)
            ? new AzureOpenAIClient(options.Endpoint!, credential ?? DefaultCredential(options), clientOptions)
            : new AzureOpenAIClient(options.Endpoint!, new ApiKeyCredential(options.ApiKey), clientOptions);
        return client.GetChatClient(options.Model!).AsIChatClient();
    }

    static IChatClient CreateOpenAICompatible(LlmOptions options)
    {
        var clientOptions = Configure(new OpenAIClientOptions { Endpoint = options.Endpoint }, options);

        // Local servers (Ollama, vLLM) take no key, but the client requires one; they ignore what is sent.
        var key = new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "no-key" : options.ApiKey);
        return new OpenAIClient(key, clientOptions).GetChatClient(options.Model!).AsIChatClient();
    }

    static T Configure<T>(T clientOptions, LlmOptions options) where T : ClientPipelineOptions
    {
        clientOptions.RetryPolicy = new ClientRetryPolicy(maxRetries: 0);
        clientOptions.NetworkTimeout = options.RequestTimeout;
        return clientOptions;
    }

    static DefaultAzureCredential DefaultCredential(LlmOptions options) =>
        string.IsNullOrEmpty(options.ManagedIdentityClientId)
            ? new DefaultAzureCredential()
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.ManagedIdentityClientId });
}
