using FunctionsChat.Auth;
using FunctionsChat.Llm;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FunctionsChat;

/// <summary>Says once, at start, when the configuration is one that must not reach production unnoticed.</summary>
public sealed partial class StartupWarnings(IOptions<LlmOptions> llm, IOptions<AuthOptions> auth, ILogger<StartupWarnings> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (llm.Value.Provider == LlmProvider.Offline)
        {
            OfflineModel(logger);
        }

        if (auth.Value.Mode == AuthMode.None)
        {
            NoAuthentication(logger);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 9001, Level = LogLevel.Warning, Message = "Llm:Provider is Offline: replies come from a built-in stand-in, not from a model. Set Llm__Provider to AzureOpenAI or OpenAI for real answers.")]
    static partial void OfflineModel(ILogger logger);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Auth:Mode is None: every caller is one anonymous principal and shares its sessions. Set Auth__Mode to EasyAuth or Jwt to give each user their own.")]
    static partial void NoAuthentication(ILogger logger);
}
