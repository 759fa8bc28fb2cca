using Microsoft.Playwright;

namespace FunctionsChat.Tests.Page;

/// <summary>
/// Debian's Chromium (installed by scripts/install-chromium.sh), driven by Playwright for .NET: Playwright's own browser
/// download is not used. One browser for the class; each test opens its own contexts.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>FUNCTIONSCHAT_CHROMIUM, or Debian's chromium package.</summary>
    public static string ExecutablePath => Environment.GetEnvironmentVariable("FUNCTIONSCHAT_CHROMIUM") ?? "/usr/bin/chromium";

    /// <summary>Where the screenshots go: the test results, beside the other artifacts.</summary>
    public static string Screenshots { get; } = Path.Combine(RepositoryFiles.Root.FullName, "TestResults", "page");

    IPlaywright? playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new FileNotFoundException($"The browser tests need Chromium at {ExecutablePath}: run scripts/install-chromium.sh (or set FUNCTIONSCHAT_CHROMIUM).");
        }

        Directory.CreateDirectory(Screenshots);
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            // Root in a container needs --no-sandbox; the rest keep Chromium off the network it has no use for here.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        playwright?.Dispose();
    }
}
