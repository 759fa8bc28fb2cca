using FunctionsChat.Llm;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FunctionsChat;

/// <summary>Says once, at start, when the configuration is one that must not reach production unnoticed.</summary>
public sealed partial class StartupWarnings(IOptions<LlmOptions> llm, ILogger<StartupWarnings> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (llm.Value.Provider == LlmProvider.Offline)
        {
            OfflineModel(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning, Message = "Llm:Provider is Offline: replies come from a built-in stand-in, not from a model. Set Llm__Provider to AzureOpenAI or OpenAI for real answers.")]
    static partial void OfflineModel(ILogger logger);
}
