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
    [Fact]
    public async Task Regenerate_edit_and_the_variant_switcher_keep_two_windows_on_one_branch()
    {
        int answers = 0;
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, $"answer {Interlocked.Increment(ref answers)}");
        await using var host = await runtime.StartAsync();
        var first = await Open(browser, host.Http.BaseAddress!, "durable-branches");
        var second = await Open(browser, host.Http.BaseAddress!, "durable-branches");
        await Send(first, "Hello");
        await Expect(Turn(second, 0).Locator(".assistant")).ToHaveTextAsync("answer 1", Patience);

        // Regenerate in one window: both show the new answer in the old one's place, as variant 2 of 2.
        await first.GetByRole(AriaRole.Button, new() { Name = "Regenerate the answer to turn" }).ClickAsync();
        foreach (var page in new[] { first, second })
        {
            await Expect(page.Locator("#messages > li[data-status=completed] .assistant")).ToHaveTextAsync(["answer 2"], Patience);
            await Expect(page.Locator("#messages .variant")).ToHaveTextAsync(["2 / 2"], Patience);
        }

        // Back to the first variant from the other window, with the keyboard.
        await second.GetByRole(AriaRole.Button, new() { Name = "Previous variant of turn" }).FocusAsync();
        await second.Keyboard.PressAsync("Enter");
        foreach (var page in new[] { first, second })
        {
            await Expect(page.Locator("#messages .assistant")).ToHaveTextAsync(["answer 1"], Patience);
            await Expect(page.Locator("#messages .variant")).ToHaveTextAsync(["1 / 2"], Patience);
        }

        // Edit the message: a third variant, with its own answer, in both windows.
        await second.GetByRole(AriaRole.Button, new() { Name = "Edit the message of turn" }).ClickAsync();
        await second.GetByLabel("New message").FillAsync("Hello, edited");
        await second.GetByRole(AriaRole.Button, new() { Name = "Send edit" }).ClickAsync();
        foreach (var page in new[] { first, second })
        {
            await Expect(page.Locator("#messages .user")).ToHaveTextAsync(["Hello, edited"], Patience);
            await Expect(page.Locator("#messages .assistant")).ToHaveTextAsync(["answer 3"], Patience);
            await Expect(page.Locator("#messages .variant")).ToHaveTextAsync(["3 / 3"], Patience);
        }

        Assert.Equal(await first.Locator("#messages").InnerTextAsync(), await second.Locator("#messages").InnerTextAsync());
        await Shot(first, "runtime-branches");
    }
}
