using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionsChat.Tests.Wiring;

/// <summary>The app's own registrations over the given settings, as the worker builds them at start.</summary>
public static class AppServices
{
    public static ServiceProvider From(Dictionary<string, string?> settings) =>
        new ServiceCollection()
            .AddLogging()
            .AddFunctionsChat(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .BuildServiceProvider();
}
