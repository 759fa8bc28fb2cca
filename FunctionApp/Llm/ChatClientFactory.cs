using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.AI;
using OpenAI;

namespace FunctionsChat.Llm;

/// <summary>
/// Builds the <see cref="IChatClient"/> for the configured provider. The SDK's own retries are off and its network
/// timeout is the per-attempt timeout: the Durable retry of the activity is the only retry layer.
/// </summary>
/// <remarks>
/// Azure OpenAI is reached on its versionless v1 API (<c>{resource}/openai/v1/</c>) with the OpenAI library: current
/// models, reasoning models included, answer there, and the request carries <c>max_completion_tokens</c>. Keys go in
/// the <c>api-key</c> header; without a key, a Microsoft Entra token for Cognitive Services is sent.
/// </remarks>
public static class ChatClientFactory
{
    public const string AzureTokenScope = "https://cognitiveservices.azure.com/.default";

    public static IChatClient Create(LlmOptions options, ContextFitter counter) => Create(options, counter, null, null);

    /// <param name="credential">Replaces the default Azure credential.</param>
    /// <param name="transport">Replaces the HTTP transport.</param>
    internal static IChatClient Create(LlmOptions options, ContextFitter counter, TokenCredential? credential, PipelineTransport? transport) => options.Provider switch
    {
        LlmProvider.Offline => new OfflineChatClient(counter),
        LlmProvider.AzureOpenAI => CreateAzureOpenAI(options, credential, transport),
        LlmProvider.OpenAI => CreateOpenAICompatible(options, transport),
        _ => throw new InvalidOperationException($"Llm:Provider '{options.Provider}' is not supported."),
    };

    /// <summary>The v1 base address of an Azure OpenAI resource, whether the resource endpoint or the v1 address was configured.</summary>
    public static Uri AzureV1Endpoint(Uri endpoint)
    {
        string path = endpoint.AbsolutePath.TrimEnd('/');
        if (!path.EndsWith("/openai/v1", StringComparison.OrdinalIgnoreCase))
        {
            path += "/openai/v1";
        }

        return new UriBuilder(endpoint) { Path = path + "/", Query = "" }.Uri;
    }

    static IChatClient CreateAzureOpenAI(LlmOptions options, TokenCredential? credential, PipelineTransport? transport)
    {
        var clientOptions = Configure(new OpenAIClientOptions { Endpoint = AzureV1Endpoint(options.Endpoint!) }, options, transport);
        AuthenticationPolicy authentication = string.IsNullOrEmpty(options.ApiKey)
            ? new BearerTokenPolicy(credential ?? DefaultCredential(options), AzureTokenScope)
            : ApiKeyAuthenticationPolicy.CreateHeaderApiKeyPolicy(new ApiKeyCredential(options.ApiKey), "api-key");

        // The authentication-policy constructor is the one Azure's v1 API guide uses; it is marked for evaluation, and
        // the pinned OpenAI version keeps a change to it a compile error at upgrade time rather than a surprise.
#pragma warning disable OPENAI001
        return new OpenAIClient(authentication, clientOptions).GetChatClient(options.Model!).AsIChatClient();
#pragma warning restore OPENAI001
    }

    static IChatClient CreateOpenAICompatible(LlmOptions options, PipelineTransport? transport)
    {
        var clientOptions = Configure(new OpenAIClientOptions { Endpoint = options.Endpoint }, options, transport);

        // Local servers (Ollama, vLLM) take no key, but the client requires one; they ignore what is sent.
        var key = new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "no-key" : options.ApiKey);
        return new OpenAIClient(key, clientOptions).GetChatClient(options.Model!).AsIChatClient();
    }

    static T Configure<T>(T clientOptions, LlmOptions options, PipelineTransport? transport) where T : ClientPipelineOptions
    {
        clientOptions.RetryPolicy = new ClientRetryPolicy(maxRetries: 0);
        clientOptions.NetworkTimeout = options.RequestTimeout;
        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        return clientOptions;
    }

    static DefaultAzureCredential DefaultCredential(LlmOptions options) =>
        string.IsNullOrEmpty(options.ManagedIdentityClientId)
            ? new DefaultAzureCredential()
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.ManagedIdentityClientId });
}
