using FunctionsChat.Auth;
using FunctionsChat.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Tests.Wiring;

/// <summary>Settings that would make the deployed app misbehave stop it at start, with a message that says why.</summary>
public class StartupValidationTests
{
    [Theory]
    [InlineData("Api:CallTimeout", "00:03:50")]
    [InlineData("Api:CallTimeout", "00:05:00")]
    [InlineData("Api:AcceptTimeout", "00:04:00")]
    public void A_wait_longer_than_Azure_lets_an_HTTP_request_live_is_refused(string setting, string value)
    {
        using var services = AppServices.From(new() { [setting] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ApiOptions>>().Value);

        Assert.Contains(setting.Split(':')[1], Assert.Single(error.Failures));
    }

    [Fact]
    public void A_call_may_wait_220_seconds()
    {
        using var services = AppServices.From(new() { ["Api:CallTimeout"] = "00:03:40" });

        Assert.Equal(TimeSpan.FromSeconds(220), services.GetRequiredService<IOptions<ApiOptions>>().Value.CallTimeout);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void The_archive_uses_the_hosts_identity_when_its_own_client_id_is_empty_or_absent(string? own)
    {
        using var services = AppServices.From(new()
        {
            ["AzureWebJobsStorage:tableServiceUri"] = "https://account.table.core.windows.net",
            ["AzureWebJobsStorage:clientId"] = "host-identity",
            ["Archive:ManagedIdentityClientId"] = own,
        });

        Assert.Equal("host-identity", services.GetRequiredService<IOptions<FunctionsChat.Archive.ArchiveOptions>>().Value.ManagedIdentityClientId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("False")]
    [InlineData("")]
    public void EasyAuth_mode_refuses_to_start_unless_the_platform_says_authentication_is_on(string? enabled)
    {
        using var services = AppServices.From(new() { ["Auth:Mode"] = "EasyAuth", ["WEBSITE_AUTH_ENABLED"] = enabled });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<AuthOptions>>().Value);

        Assert.Contains("WEBSITE_AUTH_ENABLED", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task A_host_in_EasyAuth_mode_without_the_platform_feature_does_not_start()
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "EasyAuth",
            ["WEBSITE_AUTH_ENABLED"] = "False",
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        });
        builder.Services.AddFunctionsChat(builder.Configuration);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.Contains("WEBSITE_AUTH_ENABLED", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("True")]
    [InlineData("true")]
    public void EasyAuth_mode_starts_when_the_platform_has_authentication_on(string enabled)
    {
        using var services = AppServices.From(new() { ["Auth:Mode"] = "EasyAuth", ["WEBSITE_AUTH_ENABLED"] = enabled });

        Assert.Equal(AuthMode.EasyAuth, services.GetRequiredService<IOptions<AuthOptions>>().Value.Mode);
    }
}
