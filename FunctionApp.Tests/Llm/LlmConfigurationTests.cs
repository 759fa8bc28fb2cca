using FunctionsChat.Llm;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Tests.Llm;

public class LlmConfigurationTests
{
    static ServiceProvider Services(Dictionary<string, string?> settings) => Wiring.AppServices.From(settings);

    [Fact]
    public void The_offline_provider_is_the_default_and_needs_no_other_setting()
    {
        using var services = Services([]);

        Assert.IsType<OfflineChatClient>(services.GetRequiredService<IChatClient>());
    }

    [Fact]
    public void Azure_OpenAI_without_endpoint_and_deployment_fails_with_one_message_for_each()
    {
        using var services = Services(new() { ["Llm:Provider"] = "AzureOpenAI", ["Llm:Endpoint"] = "" });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<LlmOptions>>().Value);

        Assert.Equal(2, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains("Llm:Endpoint is not set", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Llm:Model is not set; give the Azure OpenAI deployment name", StringComparison.Ordinal));
    }

    [Fact]
    public void A_relative_endpoint_is_refused()
    {
        using var services = Services(new() { ["Llm:Provider"] = "OpenAI", ["Llm:Endpoint"] = "localhost/v1", ["Llm:Model"] = "m" });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<LlmOptions>>().Value);

        Assert.Contains("is not an absolute http(s) URL", Assert.Single(error.Failures));
    }

    [Fact]
    public void Every_setting_the_app_reads_is_in_the_sample_settings()
    {
        var sample = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryFiles.Root.FullName, "local.settings.sample.json")));
        var names = sample.RootElement.GetProperty("Values").EnumerateObject().Select(p => p.Name).ToHashSet();

        var expected = new[] { typeof(LlmOptions), typeof(FunctionsChat.Sessions.SessionOptions), typeof(FunctionsChat.Http.ApiOptions), typeof(FunctionsChat.Archive.ArchiveOptions), typeof(FunctionsChat.Auth.AuthOptions), typeof(FunctionsChat.Telemetry.TelemetryOptions) }
            .SelectMany(t => t.GetProperties().Where(p => p.CanWrite).Select(p => $"{t.GetField("Section")!.GetValue(null)}__{p.Name}"));

        Assert.All(expected, name => Assert.Contains(name, names));
        Assert.Contains("TaskHubName", names);
    }
}
