using FunctionsChat.Llm;
using FunctionsChat.Tests.Simulation;
using Microsoft.Playwright;
using static FunctionsChat.Tests.Page.PageSteps;
using static Microsoft.Playwright.Assertions;

namespace FunctionsChat.Tests.Page;

/// <summary>
/// The chat page in a real browser, served with the HTTP functions by Kestrel over the simulation running in real time,
/// answered by the offline model streaming a piece at a time. Screenshots go to TestResults/page.
/// </summary>
[Collection(LiveHosts.Name)]
public class ChatPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    /// <summary>A host whose model is the offline one, speaking a few characters every <paramref name="pieceMs"/> ms after <paramref name="firstMs"/>.</summary>
    static Task<LiveChatHost> Host(int pieceMs = 40, int firstMs = 0) => LiveChatHost.StartAsync(sim =>
    {
        sim.Model.Answerer = new OfflineChatClient(new ContextFitter(ContextFitter.CreateTokenizer()));
        sim.Model.PieceChars = 6;
        sim.Model.PieceLatency = TimeSpan.FromMilliseconds(pieceMs);
        sim.Model.FirstPieceLatency = TimeSpan.FromMilliseconds(firstMs);
    });

    Task<IPage> Open(LiveChatHost host, string session, int width = 1000) => PageSteps.Open(browser, host.Http.BaseAddress!, session, width);

    [Fact]
    public async Task A_sent_message_is_answered_token_by_token_in_a_polite_live_region()
    {
        await using var host = await Host(pieceMs: 80);
        var page = await Open(host, "stream");

        await Send(page, "Tell me about durable entities");

        var answer = Turn(page, 0).Locator(".assistant");
        await Expect(answer).ToHaveAttributeAsync("aria-live", "polite", new() { Timeout = 20_000 });
        var seen = new HashSet<string>();
        while (await Turn(page, 0).GetAttributeAsync("data-status") != "completed")
        {
            seen.Add(await answer.TextContentAsync() ?? "");
            await Task.Delay(30);
        }

        await Expect(answer).ToContainTextAsync("(offline model) You said: \"Tell me about durable entities\"");
        // The answer grew in front of the reader: several partial texts before the whole.
        Assert.True(seen.Count(t => t.Length > 0) >= 3, $"partial answers seen: {seen.Count}");
        await Shot(page, "answered");
    }

    [Fact]
    public async Task The_page_shows_the_callers_use_against_their_limits_and_a_message_past_the_rate_is_refused_with_nothing_added()
    {
        await using var host = await LiveChatHost.StartAsync(
            sim => sim.Model.Answerer = new OfflineChatClient(new ContextFitter(ContextFitter.CreateTokenizer())),
            new FunctionsChat.Quota.QuotaOptions { MessagesPerMinute = 2, RunningTurns = 1 });
        var page = await Open(host, "fair");
        await Expect(page.Locator("#usage-messages")).ToHaveTextAsync("0 of 2", Patience);
        await Expect(page.Locator("#usage-turns")).ToHaveTextAsync("0 of 1", Patience);
        await Expect(page.Locator("#usage-tokens")).ToHaveTextAsync("0 (no limit)", Patience);
        await Expect(page.Locator("#usage-tokens-label")).ToHaveTextAsync("Model tokens per 1 day", Patience);

        await Send(page, "one");
        // Signals from a client are unordered: the second is sent once the session has taken the first.
        await Expect(page.Locator("#messages .user")).ToHaveTextAsync(["one"], Patience);
        await Send(page, "two");
        await Expect(page.Locator("#messages > li[data-status=completed]")).ToHaveCountAsync(2, new() { Timeout = 20_000 });
        await Expect(page.Locator("#usage-messages")).ToHaveTextAsync("2 of 2", Patience);
        await page.Locator("#message").FillAsync("three");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();

        await Expect(page.Locator("#problem-title")).ToHaveTextAsync("Too many messages this minute.", Patience);
        await Expect(page.Locator("#problem-detail")).ToContainTextAsync("(Retry-After: ", Contains);
        await Expect(page.Locator("#usage-messages")).ToHaveClassAsync("at-limit");
        await Expect(page.Locator("#usage-turns")).ToHaveTextAsync("0 of 1", Patience);
        await Expect(page.Locator("#messages .user")).ToHaveTextAsync(["one", "two"], Patience);
        await Shot(page, "fair-use", askedForAProblem: true);
    }

    [Fact]
    public async Task Two_pages_on_one_session_see_each_others_messages_and_answers_live()
    {
        await using var host = await Host();
        var first = await Open(host, "shared");
        var second = await Open(host, "shared");

        await Send(first, "Hello from the first window");
        await Send(second, "And from the second");

        foreach (var page in new[] { first, second })
        {
            await Expect(page.Locator("#messages .user")).ToHaveTextAsync(["Hello from the first window", "And from the second"], new() { Timeout = 20_000 });
            await Expect(page.Locator("#messages > li[data-status=completed]")).ToHaveCountAsync(2, new() { Timeout = 20_000 });
        }

        Assert.Equal(await first.Locator("#messages").InnerTextAsync(), await second.Locator("#messages").InnerTextAsync());
        await Shot(first, "two-windows-first");
        await Shot(second, "two-windows");
    }

    [Fact]
    public async Task Cancel_stops_a_running_turn_and_the_page_shows_it_cancelled()
    {
        await using var host = await Host(pieceMs: 200, firstMs: 4000);
        var page = await Open(host, "cancel");

        await Send(page, "A long answer, please");
        await Expect(page.Locator("#queue li")).ToContainTextAsync("running: A long answer, please", Contains);
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel turn" }).ClickAsync();

        await Expect(page.Locator("#messages > li").First).ToHaveAttributeAsync("data-status", "cancelled", new() { Timeout = 20_000 });
        await Expect(page.Locator("#queue li")).ToHaveCountAsync(0);
        await Shot(page, "cancelled");
    }

    [Fact]
    public async Task A_reload_in_the_middle_of_an_answer_picks_its_stream_up_again()
    {
        await using var host = await Host(pieceMs: 150);
        var page = await Open(host, "reload");
        await Send(page, "Count slowly");
        var answer = Turn(page, 0).Locator(".assistant");
        await Expect(answer).ToContainTextAsync("(offline", Contains);
        Assert.NotEqual("completed", await Turn(page, 0).GetAttributeAsync("data-status"));

        await page.ReloadAsync();

        await Expect(Turn(page, 0)).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 30_000 });
        await Expect(Turn(page, 0).Locator(".assistant")).ToHaveTextAsync("(offline model) You said: \"Count slowly\". I can see 0 earlier messages of yours in this session.");
        await Shot(page, "reloaded");
    }

    [Fact]
    public async Task Load_older_pages_back_through_the_history()
    {
        await using var host = await Host(pieceMs: 0);
        for (int i = 1; i <= 23; i++)
        {
            using var call = await host.Http.PostAsync("/Chat/long/message", new StringContent($"{{\"message\":\"message {i}\"}}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.OK, call.StatusCode);
        }

        var page = await Open(host, "long");
        await Expect(page.Locator("#messages .user")).ToHaveCountAsync(20);
        await Expect(page.Locator("#messages .user").First).ToHaveTextAsync("message 4");

        await page.GetByRole(AriaRole.Button, new() { Name = "Load older" }).ClickAsync();

        await Expect(page.Locator("#messages .user")).ToHaveCountAsync(23);
        await Expect(page.Locator("#messages .user").First).ToHaveTextAsync("message 1");
        await Shot(page, "older");
    }

    [Fact]
    public async Task A_bad_input_shows_the_problems_title_and_detail()
    {
        await using var host = await Host();
        var page = await browser.Browser.NewPageAsync();
        await page.GotoAsync(host.Http.BaseAddress!.ToString());

        await page.GetByLabel("Session id").FillAsync("not a valid id!");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync();

        var alert = page.GetByRole(AriaRole.Alert);
        await Expect(alert).ToContainTextAsync("The session id is not valid.", Contains);
        await Expect(alert).ToContainTextAsync("not a valid id!");
        await Shot(page, "problem", askedForAProblem: true);
    }

    [Fact]
    public async Task A_message_is_sent_with_the_keyboard_alone_and_the_page_fits_360_pixels()
    {
        await using var host = await Host();
        var page = await Open(host, "keys", width: 360);

        // Opening a session puts the focus in the message box; Tab moves to the strategy, then to Send.
        await page.Keyboard.TypeAsync("Typed, never clicked");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Send" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");

        await Expect(Turn(page, 0)).ToHaveAttributeAsync("data-status", "completed", new() { Timeout = 20_000 });
        await Expect(Turn(page, 0).Locator(".user")).ToHaveTextAsync("Typed, never clicked");
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= 360"), "nothing is wider than 360 px");
        await Shot(page, "narrow");
    }
}
