using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FunctionsChat.Telemetry;

/// <summary>
/// OpenTelemetry for the app's spans, metrics and logs: to Application Insights when
/// APPLICATIONINSIGHTS_CONNECTION_STRING is set (by the app's managed identity when
/// APPLICATIONINSIGHTS_AUTHENTICATION_STRING says so), to the console when asked, else nowhere.
/// </summary>
public static class TelemetryRegistration
{
    public static IServiceCollection AddChatTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TelemetryOptions>().Bind(configuration.GetSection(TelemetryOptions.Section));
        services.AddMetrics();
        services.AddSingleton<ChatTelemetry>();

        string? connectionString = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        var credential = Credential(configuration["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        bool console = configuration.GetValue<bool>($"{TelemetryOptions.Section}:{nameof(TelemetryOptions.ConsoleExporter)}");

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ChatTelemetry.Name))
            .WithTracing(tracing =>
            {
                tracing.AddSource(ChatTelemetry.Name);
                if (!string.IsNullOrEmpty(connectionString))
                {
                    tracing.AddAzureMonitorTraceExporter(o => { o.ConnectionString = connectionString; o.Credential = credential; });
                }

                if (console)
                {
                    tracing.AddConsoleExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ChatTelemetry.Name);
                if (!string.IsNullOrEmpty(connectionString))
                {
                    metrics.AddAzureMonitorMetricExporter(o => { o.ConnectionString = connectionString; o.Credential = credential; });
                }

                if (console)
                {
                    metrics.AddConsoleExporter();
                }
            });

        // Logs take one path only: the host forwards the worker's log calls and exports them (host.json telemetryMode
        // OpenTelemetry). Exporting them here as well would store every line twice.
        return services;
    }

    /// <summary>"Authorization=AAD;ClientId=..." asks for Entra ingestion with that user-assigned identity.</summary>
    static TokenCredential? Credential(string? authentication)
    {
        if (string.IsNullOrEmpty(authentication) || !authentication.Contains("Authorization=AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string? clientId = authentication.Split(';')
            .Select(part => part.Split('=', 2))
            .FirstOrDefault(kv => kv.Length == 2 && kv[0].Trim().Equals("ClientId", StringComparison.OrdinalIgnoreCase))?[1].Trim();
        return string.IsNullOrEmpty(clientId) ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned) : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
    }
}
