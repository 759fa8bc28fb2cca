using System.Net;
using DurableTask.Core.Exceptions;
using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Llm;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Entities;
using static FunctionsChat.Tests.Hosting.ChatRequests;

namespace FunctionsChat.Tests.Runtime;

/// <summary>The test client over the Azure Storage backend answers as the Durable client the app is written against.</summary>
[Collection(DurableRuntimeCollection.Name)]
public class CoreDurableTaskClientTests(DurableRuntimeFixture runtime)
{
    static readonly TimeSpan Patient = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_signalled_entity_is_read_by_id_and_found_by_its_prefix_a_page_at_a_time()
    {
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, "hi");
        await using var host = await runtime.StartAsync();
        foreach (string session in new[] { "c-one", "c-two", "c-three" })
        {
            await Expect(HttpStatusCode.OK, await host.Http.SendAsync(Post($"/Chat/{session}/message", "hello", "t1")));
        }

        var id = SessionEntityIds.For(SessionKeys.For(CallerResolver.AnonymousCaller, "c-two"));
        var read = await host.Client.Entities.GetEntityAsync<ChatSessionState>(id);
        var bare = await host.Client.Entities.GetEntityAsync(id, includeState: false);
        var missing = await host.Client.Entities.GetEntityAsync<ChatSessionState>(SessionEntityIds.For("nobody:none"));

        Assert.Equal("@chatsession@" + SessionKeys.For(CallerResolver.AnonymousCaller, "c-two"), read!.Id.ToString());
        Assert.Equal("c-two", read.State.SessionId);
        Assert.Single(read.State.Turns);
        Assert.False(bare!.IncludesState);
        Assert.Null(missing);

        var pages = new List<List<string>>();
        await foreach (var page in host.Client.Entities.GetAllEntitiesAsync<ChatSessionState>(new EntityQuery { InstanceIdStartsWith = SessionEntityIds.QueryPrefix, PageSize = 2 }).AsPages(pageSizeHint: 2))
        {
            pages.Add(page.Values.Select(e => e.State.SessionId).ToList());
        }

        Assert.Equal(["c-one", "c-three", "c-two"], pages.SelectMany(p => p).Order());
        Assert.All(pages, p => Assert.InRange(p.Count, 0, 2));
    }

    [Fact]
    public async Task An_orchestration_is_started_by_id_read_refused_a_second_start_terminated_and_purged()
    {
        await using var host = await runtime.StartAsync();
        var later = new StartOrchestrationOptions("later-1", DateTimeOffset.UtcNow.AddMinutes(5));
        var input = new ArchiveDeletion("nobody:none", RetrySchedule.Default);

        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DeleteArchive), input, later);
        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(DeleteArchive), input, later));
        var pending = await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
        await host.Client.TerminateInstanceAsync(id);
        var terminated = await host.Client.WaitForInstanceCompletionAsync(id, cancellation: new CancellationTokenSource(Patient).Token);

        Assert.Equal("later-1", id);
        Assert.Equal(OrchestrationRuntimeStatus.Pending, pending!.RuntimeStatus);
        Assert.Equal(nameof(DeleteArchive), pending.Name);
        Assert.Equal("nobody:none", pending.ReadInputAs<ArchiveDeletion>()!.SessionKey);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, terminated.RuntimeStatus);
        // As the Functions host does: an instance that is not running is not terminated again.
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.Client.TerminateInstanceAsync(id));
        Assert.Equal(1, (await host.Client.PurgeInstanceAsync(id)).PurgedInstanceCount);
        Assert.Null(await host.Client.GetInstanceAsync(id));
        Assert.Equal(0, (await host.Client.PurgeInstanceAsync(id)).PurgedInstanceCount);
    }

    [Fact]
    public async Task An_orchestration_of_the_app_runs_to_completion_with_its_input_read_as_its_type()
    {
        await using var host = await runtime.StartAsync();

        // Its trigger's input is object, as the Functions worker sees it: GetInput<ArchiveInput> must read it as its type.
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ArchiveTurns), new ArchiveInput("nobody:none", "b1", 0, [], RetrySchedule.Default));
        var done = await host.Client.WaitForInstanceCompletionAsync(id, cancellation: new CancellationTokenSource(Patient).Token);

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{done.RuntimeStatus}: {done.FailureDetails?.ErrorType} {done.FailureDetails?.ErrorMessage}");
    }
}
