using FunctionsChat.Tests.Llm;
using FunctionsChat.Tests.Page;
using Microsoft.Playwright;
using static FunctionsChat.Tests.Page.PageSteps;
using static Microsoft.Playwright.Assertions;

namespace FunctionsChat.Tests.Runtime;

/// <summary>The chat page in Chromium, served by the app on the real Durable runtime (Azure Storage backend over Azurite).</summary>
[Collection(DurableRuntimeCollection.Name)]
public class ChatPageOnRuntimeTests(DurableRuntimeFixture runtime, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Two_windows_on_one_session_show_the_same_conversation_and_the_session_list()
    {
        await using var host = await runtime.StartAsync(("Llm:Provider", "Offline"));
        var first = await Open(browser, host.Http.BaseAddress!, "durable-pair");
        var second = await Open(browser, host.Http.BaseAddress!, "durable-pair");

        // Each window sees the other's message arrive live before it answers.
        await Send(first, "Hello from the first window");
        await Expect(second.Locator("#messages .user")).ToHaveTextAsync(["Hello from the first window"], new() { Timeout = 30_000 });
        await Send(second, "And from the second");

        foreach (var page in new[] { first, second })
        {
            await Expect(page.Locator("#messages .user")).ToHaveTextAsync(["Hello from the first window", "And from the second"], new() { Timeout = 30_000 });
            await Expect(page.Locator("#messages > li[data-status=completed]")).ToHaveCountAsync(2, new() { Timeout = 30_000 });
        }

        await second.ReloadAsync();
        await Expect(second.Locator("#sessions")).ToContainTextAsync("durable-pair", Contains);
        Assert.Equal(await first.Locator("#messages").InnerTextAsync(), await second.Locator("#messages").InnerTextAsync());
        await Shot(first, "runtime-two-windows-first");
        await Shot(second, "runtime-two-windows");
    }

    [Fact]
    public async Task Cancel_on_the_page_closes_the_model_request_and_shows_the_turn_cancelled()
    {
        var closed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        runtime.Model.Respond = c => LoopbackModelServer.Endless(c, closed);
        await using var host = await runtime.StartAsync();
        var page = await Open(browser, host.Http.BaseAddress!, "durable-cancel");

        await Send(page, "Talk until I stop you");
        await Expect(page.Locator("#queue li")).ToContainTextAsync("running: Talk until I stop you", Contains);
        await Expect(Turn(page, 0).Locator(".assistant")).ToContainTextAsync("w1 ", Contains);
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel turn" }).ClickAsync();

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Expect(page.Locator("#messages > li").First).ToHaveAttributeAsync("data-status", "cancelled", new() { Timeout = 30_000 });
        await Expect(page.Locator("#queue li")).ToHaveCountAsync(0);
        await Shot(page, "runtime-cancelled");
    }
}
