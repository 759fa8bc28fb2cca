using FunctionsChat.Archive;
using FunctionsChat.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using FunctionsChat.Http;
using FunctionsChat.Llm;
using FunctionsChat.Sessions;
using FunctionsChat.Telemetry;
using FunctionsChat.Turns;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FunctionsChat;

/// <summary>Everything the app registers: options (validated at start), the model client and the HTTP helpers.</summary>
public static class ServiceRegistration
{
    public static IServiceCollection AddFunctionsChat(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SessionOptions>().Bind(configuration.GetSection(SessionOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FunctionsChat.Quota.QuotaOptions>().Bind(configuration.GetSection(FunctionsChat.Quota.QuotaOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ApiOptions>().Bind(configuration.GetSection(ApiOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LlmOptions>().Bind(configuration.GetSection(LlmOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<LlmOptions>, LlmOptionsValidator>();
        services.AddSingleton<IValidateOptions<SessionOptions>, SessionOptionsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddChatTelemetry(configuration);
        services.AddSingleton(_ => new ContextFitter(ContextFitter.CreateTokenizer()));
        services.AddSingleton<ContextAssembler>();
        // The model activity runs a turn's summary step before its answer.
        services.AddSingleton<FunctionsChat.Turns.SummarizeConversation>();
        // A call waiting in this process wakes when the model activity here has reported its answer.
        services.AddSingleton<FunctionsChat.Turns.TurnNotices>();
        services.AddSingleton<IChatClient>(sp => ChatClientFactory.Create(sp.GetRequiredService<IOptions<LlmOptions>>().Value, sp.GetRequiredService<ContextFitter>()));
        services.AddSingleton<TurnWaiter>();
        services.AddSingleton<MessageAdmission>();
        services.AddSingleton<StreamLimiter>();
        services.AddSingleton<EventResponses>();
        services.AddSingleton<SessionOperations>();
        services.AddSingleton<FunctionsChat.Quota.QuotaOperations>();

        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section))
            .Validate(o => o.Mode != AuthMode.Jwt || (o.Authority is { Length: > 0 } && o.Audience is { Length: > 0 }),
                "Auth:Mode is Jwt but Auth:Authority or Auth:Audience is not set (Auth__Authority, Auth__Audience).")
            .Validate(o => o.Mode != AuthMode.EasyAuth || PlatformAuthentication.IsEnabled(configuration), PlatformAuthentication.OffMessage)
            .ValidateOnStart();
        services.AddAuthentication().AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<IOptions<AuthOptions>>((jwt, auth) =>
        {
            jwt.Authority = auth.Value.Authority;
            jwt.Audience = auth.Value.Audience;
            jwt.MapInboundClaims = false; // keep oid, tid and sub as the token names them
        });
        services.AddSingleton<CallerResolver>();

        services.AddOptions<ArchiveOptions>().Bind(configuration.GetSection(ArchiveOptions.Section))
            .PostConfigure(o => ArchiveConnection.FillFromHost(o, configuration))
            .Validate(o => o.ConnectionString is { Length: > 0 } || o.TableServiceUri is not null,
                "Archive: neither Archive__ConnectionString nor Archive__TableServiceUri is set, and AzureWebJobsStorage gives neither.")
            .ValidateOnStart();
        services.AddSingleton<ITranscriptArchive>(sp => new TableTranscriptArchive(ArchiveConnection.Table(sp.GetRequiredService<IOptions<ArchiveOptions>>().Value)));
        services.AddSingleton<ITurnStreams>(sp => new TableTurnStreams(ArchiveConnection.Table(sp.GetRequiredService<IOptions<ArchiveOptions>>().Value)));
        services.AddHostedService<StartupWarnings>();
        return services;
    }
}
