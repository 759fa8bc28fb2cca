using FunctionsChat.Domain;
using FunctionsChat.Tests.Http;
using FunctionsChat.Tests.Simulation;
using FunctionsChat.Turns;

namespace FunctionsChat.Tests.Turns;

public class TurnWatchTests
{
    static readonly SessionLimits Limits = SessionLimits.Default;

    /// <summary>A session running t1 (and t2 queued), as committed.</summary>
    static ChatSessionState Running()
    {
        var state = ChatSessionState.Empty;
        foreach (var id in new[] { "t1", "t2" })
        {
            state = SessionTransitions.Enqueue(state, new TurnRequest("s1", id, "message " + id, HttpHarness.Start), HttpHarness.Start, Limits).State;
        }

        return state;
    }

    static string RunOfT1(ChatSessionState state) => SessionQueries.RunOf(state, state.Active!.Turn.Sequence);

    [Fact]
    public async Task Each_chunk_carries_the_sessions_newest_event_as_the_watch_last_read_it_every_250_ms()
    {
        var time = new SimulatedTime(HttpHarness.Start);
        var state = Running();
        string run = RunOfT1(state);
        var store = new InMemoryArchive();
        int reads = 0;
        var watch = new TurnWatch(_ => { reads++; return Task.FromResult<ChatSessionState?>(state); }, time, "t1", run);
        var writer = new TurnStreamWriter(store, time, "anonymous/s1", "stream", () => watch.Events);

        await time.Run(async () =>
        {
            Assert.True(await watch.BeginAsync(default));
            foreach (var (ms, events) in new[] { (100, 3L), (260, 4L), (380, 5L), (510, 6L) })
            {
                state = state with { Events = events };
                time.AdvanceTo(HttpHarness.Start.AddMilliseconds(ms));
                await writer.AddAsync("word ", default);
            }

            await writer.CompleteAsync(default);
            await watch.DisposeAsync();
            return 0;
        });

        // Read when it began (3 events) and at 250 and 500 ms: the chunk flushed at 380 ms still carries 4.
        Assert.Equal([3L, 4L, 4L, 6L, 6L], store.StreamRows.Values.Select(c => c.After));
        Assert.Equal(3, reads);
    }

    [Fact]
    public async Task A_failed_read_keeps_the_last_number_and_does_not_stop_the_answer()
    {
        var time = new SimulatedTime(HttpHarness.Start);
        var state = Running();
        int reads = 0;
        var watch = new TurnWatch(_ => ++reads == 1 ? Task.FromResult<ChatSessionState?>(state) : throw new Azure.RequestFailedException("unavailable"), time, "t1", RunOfT1(state));

        await time.Run(async () =>
        {
            Assert.True(await watch.BeginAsync(default));
            time.AdvanceTo(HttpHarness.Start.AddSeconds(1));
            return 0;
        });

        Assert.Equal(5, reads);
        Assert.Equal(3L, watch.Events);
        Assert.False(watch.Stopped.IsCancellationRequested);
    }

    [Theory]
    [InlineData("cancel")]
    [InlineData("interrupt")]
    [InlineData("rollback")]
    [InlineData("expiry")]
    [InlineData("delete")]
    public async Task The_watch_stops_the_model_call_at_its_next_read_once_the_session_stops_the_turn(string how)
    {
        var time = new SimulatedTime(HttpHarness.Start);
        ChatSessionState? state = Running();
        string run = RunOfT1(state);
        var watch = new TurnWatch(_ => Task.FromResult<ChatSessionState?>(state), time, "t1", run);
        var at = HttpHarness.Start.AddMilliseconds(300);

        await time.Run(async () =>
        {
            Assert.True(await watch.BeginAsync(default));
            time.AdvanceTo(at);
            Assert.False(watch.Stopped.IsCancellationRequested);
            state = how switch
            {
                "cancel" => SessionTransitions.Cancel(state!, new TurnCancellation("t1"), at, Limits).State,
                "interrupt" => SessionTransitions.Enqueue(state!, new TurnRequest("s1", "t3", "stop", at) { Strategy = MultitaskStrategy.Interrupt }, at, Limits).State,
                "rollback" => SessionTransitions.Enqueue(state!, new TurnRequest("s1", "t3", "stop", at) { Strategy = MultitaskStrategy.Rollback }, at, Limits).State,
                "expiry" => SessionTransitions.Expire(state! with { ExpiryCheckAt = at }, new TurnExpiry("t1") { At = at }, state!.Active!.ExpiresAt, Limits).State,
                _ => null,
            };
            time.AdvanceTo(at.AddMilliseconds(199));
            Assert.False(watch.Stopped.IsCancellationRequested);
            time.AdvanceTo(at.AddMilliseconds(200));
            return 0;
        });

        // Reads at 0, 250 and 500 ms: the stop committed at 300 ms is seen at 500 ms.
        Assert.True(watch.Stopped.IsCancellationRequested);
    }

    [Fact]
    public async Task An_attempt_that_begins_after_the_session_stopped_its_turn_makes_no_model_call()
    {
        var time = new SimulatedTime(HttpHarness.Start);
        var state = Running();
        string run = RunOfT1(state);
        var stopped = SessionTransitions.Cancel(state, new TurnCancellation("t1"), HttpHarness.Start, Limits).State;

        var other = new TurnWatch(_ => Task.FromResult<ChatSessionState?>(state), time, "t1", run + "-older");
        var cancelled = new TurnWatch(_ => Task.FromResult<ChatSessionState?>(stopped), time, "t1", run);

        Assert.False(await time.Run(() => other.BeginAsync(default)));
        Assert.False(await time.Run(() => cancelled.BeginAsync(default)));
    }

    [Fact]
    public async Task A_read_cancelled_by_the_transport_is_no_news_and_the_watch_goes_on_and_disposes_quietly()
    {
        // The Durable client turns a gRPC call cancelled by the other side into an OperationCanceledException.
        var time = new SimulatedTime(HttpHarness.Start);
        var state = Running();
        int reads = 0;
        var watch = new TurnWatch(_ => ++reads == 2 ? throw new OperationCanceledException("the call was cancelled") : Task.FromResult<ChatSessionState?>(state), time, "t1", RunOfT1(state));
        var stopped = watch.Stopped;

        await time.Run(async () =>
        {
            Assert.True(await watch.BeginAsync(default));
            time.AdvanceTo(HttpHarness.Start.AddMilliseconds(600));
            state = SessionTransitions.Cancel(state, new TurnCancellation("t1"), HttpHarness.Start, Limits).State;
            time.AdvanceTo(HttpHarness.Start.AddMilliseconds(750));
            await watch.DisposeAsync();
            return 0;
        });

        Assert.True(stopped.IsCancellationRequested);
        Assert.Equal(4, reads);
    }
}
