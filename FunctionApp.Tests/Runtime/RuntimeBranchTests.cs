using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Llm;
using static FunctionsChat.Tests.Hosting.ChatRequests;

namespace FunctionsChat.Tests.Runtime;

/// <summary>Regenerate, edit, switch and fork over HTTP on the real Durable runtime (Azure Storage backend over Azurite).</summary>
[Collection(DurableRuntimeCollection.Name)]
public class RuntimeBranchTests(DurableRuntimeFixture runtime)
{
    static readonly TimeSpan Turn = TimeSpan.FromSeconds(30);

    ModelProbe NumberedAnswers()
    {
        int answers = 0;
        var probe = new ModelProbe();
        runtime.Model.Respond = probe.Around(c => LoopbackModelServer.Ok(c, $"answer {Interlocked.Increment(ref answers)}"));
        return probe;
    }

    static Task<JsonElement> Finished(DurableRuntimeHost host, string session, string turn) =>
        Until(
            () => host.Http.GetAsync($"/Chat/{session}/turns/{turn}").ContinueWith(r => Expect(HttpStatusCode.OK, r.Result)).Unwrap(),
            s => s.GetProperty("status").GetString() is not ("queued" or "running"), Turn, $"turn {turn} finishing");

    static async Task<JsonElement> PostJson(DurableRuntimeHost host, HttpStatusCode expected, string path, object? body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await Expect(expected, await host.Http.SendAsync(request));
    }

    static async Task<string[]> Users(DurableRuntimeHost host, string session) =>
        [.. (await Expect(HttpStatusCode.OK, await host.Http.GetAsync($"/Chat/{session}/getHistory?limit=20"))).GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() == "user").Select(m => m.GetProperty("content").GetString()!)];

    [Fact]
    public async Task Regenerate_edit_switch_and_fork_each_show_the_model_one_branch_and_the_history_follows_it()
    {
        var model = NumberedAnswers();
        await using var host = await runtime.StartAsync();
        foreach (var (id, text) in new[] { ("t1", "one"), ("t2", "two"), ("t3", "three") })
        {
            await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-branch/message", text, id)));
        }

        await PostJson(host, HttpStatusCode.Accepted, "/Chat/rt-branch/turns/t3/regenerate", null, "r3");
        Assert.Equal("answer 4", (await Finished(host, "rt-branch", "r3")).GetProperty("answer").GetString());
        await PostJson(host, HttpStatusCode.Conflict, "/Chat/rt-branch/turns/t2/regenerate", null);
        await PostJson(host, HttpStatusCode.Accepted, "/Chat/rt-branch/turns/t2/edit", new { message = "two, edited" }, "e2");
        await Finished(host, "rt-branch", "e2");
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-branch/message", "five", "t5")));
        var switched = await Expect(HttpStatusCode.OK, await host.Http.PutAsJsonAsync("/Chat/rt-branch/branch", new { turnId = "t3" }));
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-branch/message", "six", "t7")));

        // The model saw one branch each time: the regenerate, t1 and t2 before three again; the edit, t1 alone; five,
        // the edited branch; six, the first branch as it was.
        var prompts = model.InOrder.Select(c => c.UserMessages.ToArray()).ToArray();
        Assert.Equal(
            [["one"], ["one", "two"], ["one", "two", "three"], ["one", "two", "three"], ["one", "two, edited"], ["one", "two, edited", "five"], ["one", "two", "three", "six"]],
            prompts);
        Assert.Equal(3, switched.GetProperty("head").GetInt64());
        Assert.Equal(["one", "two", "three", "six"], await Users(host, "rt-branch"));

        var fork = await PostJson(host, HttpStatusCode.Created, "/Chat/rt-branch/fork", new { sessionId = "rt-branch-copy", turnId = "e2" });
        Assert.Equal(2, fork.GetProperty("turns").GetInt64());
        Assert.Equal(["one", "two, edited"], await Users(host, "rt-branch-copy"));
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-branch-copy/message", "seven", "c3")));
        Assert.Equal(["one", "two, edited", "seven"], model.InOrder[^1].UserMessages);
        RuntimeReport.Line($"branches: regenerate, edit, switch and fork each showed the model one branch ({prompts.Length + 1} prompts checked)");
    }

    [Fact]
    public async Task A_session_with_100_branches_stays_within_its_state_and_stored_bounds()
    {
        NumberedAnswers();
        await using var host = await runtime.StartAsync();
        var id = SessionEntityIds.For(SessionKeys.For(FunctionsChat.Auth.CallerResolver.AnonymousCaller, "rt-100"));
        await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post("/Chat/rt-100/message", "the question", "t0")));

        string last = "t0";
        for (int i = 1; i < 100; i++)
        {
            string key = $"r{i}";
            await PostJson(host, HttpStatusCode.Accepted, $"/Chat/rt-100/turns/{last}/regenerate", null, key);
            await Finished(host, "rt-100", key);
            last = key;
        }

        var sizes = await StoredSizes.ReadAsync(runtime.Storage, host.TaskHub, id.ToString());
        var state = (await host.Client.Entities.GetEntityAsync<ChatSessionState>(id))!.State;
        var history = await Expect(HttpStatusCode.OK, await host.Http.GetAsync("/Chat/rt-100/getHistory?limit=20"));
        var variants = history.GetProperty("messages")[0].GetProperty("variants");
        RuntimeReport.Line($"100 branches (one turn regenerated 99 times): state {PayloadBudget.Bytes(state):N0} B as the entity stores it, {sizes}; the state holds {state.Tips!.Count} tips and {state.Forks!.Sum(f => f.Children.Count)} variants");

        Assert.Equal(100, Branches.Count(state));
        Assert.Equal((100, 100), (variants.GetProperty("index").GetInt32(), variants.GetProperty("count").GetInt32()));
        Assert.Equal(0, sizes.LargeMessageBlobs);
        Assert.InRange(PayloadBudget.Bytes(state), 1, PayloadBudget.MaxBytes);
    }
}
