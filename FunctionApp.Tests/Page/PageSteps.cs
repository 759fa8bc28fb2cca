using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace FunctionsChat.Tests.Page;

/// <summary>What a person does on the chat page, and the checks every browser test ends with.</summary>
public static class PageSteps
{
    public static readonly LocatorAssertionsToHaveTextOptions Patience = new() { Timeout = 20_000 };

    public static readonly LocatorAssertionsToContainTextOptions Contains = new() { Timeout = 20_000 };

    public static async Task<IPage> Open(BrowserFixture browser, Uri baseAddress, string session, int width = 1000)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = 800 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{baseAddress}?session={session}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = session })).ToBeVisibleAsync();
        await Expect(page.Locator("#live")).ToHaveTextAsync("live", Patience);
        return page;
    }

    /// <summary>
    /// The test's last look at the page: no problem is shown that the test did not ask for (a failing read behind the
    /// page fails the test, not only the picture), then a screenshot.
    /// </summary>
    public static async Task Shot(IPage page, string name, bool askedForAProblem = false)
    {
        if (!askedForAProblem)
        {
            var problem = page.Locator("#problem");
            Assert.False(await problem.IsVisibleAsync(), $"the page shows a problem: {await problem.TextContentAsync()}");
        }

        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.Screenshots, name + ".png"), FullPage = true });
    }

    public static ILocator Turn(IPage page, int index) => page.Locator("#messages > li").Nth(index);

    public static async Task Send(IPage page, string message, string? strategy = null)
    {
        await page.GetByLabel("Message", new() { Exact = true }).FillAsync(message);
        if (strategy is not null)
        {
            await page.GetByLabel("If a turn is running").SelectOptionAsync(strategy);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
    }
}
