using System.Net.ServerSentEvents;
using System.Text.Json;
using FunctionsChat.Domain;
using FunctionsChat.Http;

namespace FunctionsChat.Tests.Http;

public class SessionEventsTests
{
    const string Key = "anonymous/s1";
    static readonly DateTimeOffset T0 = HttpHarness.Start;
    static readonly SessionLimits Limits = SessionLimits.Default;

    /// <summary>
    /// One session's life, step by step, as the entity and the model activity make it: each chunk is stamped with the
    /// session's newest event as its writer last read it (which may lag behind, as a writer reads at most every 250 ms).
    /// </summary>
    sealed class World
    {
        readonly List<Action<World>> steps = [];

        public ChatSessionState State { get; set; } = ChatSessionState.Empty;

        public InMemoryArchive Store { get; } = new();

        public int Count => steps.Count;

        public World Then(Action<World> step)
        {
            steps.Add(step);
            return this;
        }

        /// <summary>The same life replayed into a fresh world up to (and with) step <paramref name="through"/>.</summary>
        public World Upto(int through)
        {
            var copy = new World();
            copy.steps.AddRange(steps);
            foreach (var step in steps.Take(through + 1))
            {
                step(copy);
            }

            return copy;
        }

        public void Enqueue(string turnId, string message, int second) =>
            State = SessionTransitions.Enqueue(State, TurnRequest.For("s1", turnId, message, T0.AddSeconds(second)), T0.AddSeconds(second), Limits).State;

        public void Chunk(string turnId, string attempt, int seq, string text, long after, bool last = false)
        {
            var turn = State.Active!.Turn;
            Assert.Equal(turnId, turn.TurnId);
            Store.AppendAsync(Key, StreamKeys.Of(turn.AcceptedAt, turnId), new StreamChunk(attempt, seq, text, last) { After = after }, default);
        }

        public void Complete(string turnId, string answer, string attempt, int second) =>
            State = SessionTransitions.Complete(State, new TurnCompletion(turnId, answer, "gpt-test", new TokenUsage(1, 1), T0.AddSeconds(second)) { Attempt = attempt }, T0.AddSeconds(second), Limits).State;
    }

    static readonly string A1 = StreamKeys.NewAttempt(T0.AddSeconds(1));
    static readonly string B1 = StreamKeys.NewAttempt(T0.AddSeconds(20));

    /// <summary>Two turns from two windows: t2 is queued while t1's answer streams, and the writer learns of it late.</summary>
    static World TwoWindows() => new World()
        .Then(w => w.Enqueue("t1", "Tell a story", 1))
        .Then(w => w.Chunk("t1", A1, 0, "Once ", after: w.State.Events))
        .Then(w => w.Enqueue("t2", "And a poem", 2))
        .Then(w => w.Chunk("t1", A1, 1, "upon ", after: w.State.Events - 1))
        .Then(w => w.Chunk("t1", A1, 2, "a time.", after: w.State.Events, last: true))
        .Then(w => w.Complete("t1", "Once upon a time.", A1, 10))
        .Then(w => w.Chunk("t2", B1, 0, "Roses.", after: w.State.Events, last: true))
        .Then(w => w.Complete("t2", "Roses.", B1, 21));

    /// <summary>Reads the session's events, the world moved to <paramref name="stepAt"/>(read) before each read.</summary>
    static async Task<List<SseItem<string>>> Read(World world, Func<int, int> stepAt, string? lastEventId = null)
    {
        var events = new List<SseItem<string>>();
        int reads = 0;
        World current = world.Upto(stepAt(0));
        var reader = new SessionEvents(new LazyStreams(() => current.Store), new InMemoryArchive(), new VirtualClock(T0));
        await foreach (var item in reader.ReadAsync(_ =>
        {
            current = world.Upto(Math.Min(stepAt(reads++), world.Count - 1));
            return Task.FromResult<ChatSessionState?>(current.State);
        }, Key, "s1", lastEventId, CancellationToken.None))
        {
            events.Add(item);
        }

        return events;
    }

    static string Text(SseItem<string> item, string property) => JsonDocument.Parse(item.Data).RootElement.GetProperty(property).ToString();

    [Fact]
    public async Task Two_windows_reading_at_different_moments_see_the_same_events_in_the_same_order()
    {
        var world = TwoWindows();

        // One window reads after every step; the other only every third (and its first read is before any turn).
        var often = await Read(world, read => read);
        var seldom = await Read(world, read => read * 3 - 1);

        Assert.Equal(
            ["queued", "started", "delta", "delta", "queued", "delta", "completed", "started", "delta", "completed"],
            often.Select(e => e.EventType));
        Assert.Equal(["t1", "t1", "t1", "t1", "t2", "t1", "t1", "t2", "t2", "t2"], often.Select(e => Text(e, "turnId")));
        Assert.Equal(["Once ", "upon ", "a time.", "Roses."], often.Where(e => e.EventType == "delta").Select(e => Text(e, "text")));
        Assert.Equal("And a poem", Text(often[4], "message"));
        Assert.Equal(often.Select(e => (e.EventType, e.EventId, e.Data)), seldom.Select(e => (e.EventType, e.EventId, e.Data)));
        Assert.Equal(often.Count, often.Select(e => e.EventId).Distinct().Count());
    }

    [Fact]
    public async Task A_turn_queued_while_an_answer_streams_waits_until_the_stream_has_moved_past_it()
    {
        var world = TwoWindows();

        // Read right after t2 was queued, and again after a chunk whose writer had not yet seen it: t2 still waits.
        var early = await Read(world, read => read < 2 ? 2 + read : 3);

        Assert.Equal(["queued", "started", "delta", "delta"], early.Select(e => e.EventType));
    }

    [Fact]
    public async Task A_window_resuming_after_any_event_gets_exactly_the_rest()
    {
        var world = TwoWindows();
        var all = await Read(world, read => read);

        for (int i = 0; i < all.Count; i++)
        {
            var rest = await Read(world, _ => world.Count - 1, all[i].EventId);
            Assert.Equal(all.Skip(i + 1).Select(e => (e.EventType, e.EventId, e.Data)), rest.Select(e => (e.EventType, e.EventId, e.Data)));
        }
    }

    [Fact]
    public async Task A_window_opened_mid_answer_starts_with_the_turns_under_way_and_the_answer_from_its_first_word()
    {
        var world = TwoWindows();

        var late = await Read(world, read => 3 + read);

        Assert.Equal(["queued", "started", "delta", "delta", "queued", "delta", "completed", "started", "delta", "completed"], late.Select(e => e.EventType));
    }

    [Fact]
    public async Task A_deleted_session_says_so_once_and_its_next_life_follows()
    {
        var world = TwoWindows()
            .Then(w => w.State = SessionTransitions.Delete(w.State, new SessionDeletion(T0.AddSeconds(30)), T0.AddSeconds(30), Limits).State)
            .Then(w => w.Enqueue("t9", "Again", 40));

        var events = await Read(world, read => read);

        Assert.Equal(["deleted", "queued", "started"], events.SkipWhile(e => e.EventType != "deleted").Select(e => e.EventType));
        Assert.Equal("0.deleted", events.Single(e => e.EventType == "deleted").EventId);
        Assert.StartsWith("1.", events[^1].EventId);
        Assert.Equal("t9", Text(events[^1], "turnId"));
    }

    [Fact]
    public async Task A_window_behind_turns_since_archived_is_told_to_reload_and_goes_on_from_what_the_state_holds()
    {
        var world = TwoWindows().Then(w => w.State = w.State with { Turns = [.. w.State.Turns.Skip(1)], ArchivedThrough = 1 });

        var events = await Read(world, _ => world.Count - 1, "0.1");

        Assert.Equal("sync", events[0].EventType);
        Assert.Equal("/Chat/s1/getHistory", Text(events[0], "history"));
        Assert.Equal(["started", "delta", "completed"], events.Skip(1).Select(e => e.EventType));
    }

    /// <summary>The current world's store, looked up at each call (the world is replayed between reads).</summary>
    sealed class LazyStreams(Func<InMemoryArchive> store) : FunctionsChat.Archive.ITurnStreams
    {
        public Task AppendAsync(string sessionKey, string stream, StreamChunk chunk, CancellationToken cancellation) => store().AppendAsync(sessionKey, stream, chunk, cancellation);

        public Task<int> DeleteAsync(string sessionKey, string stream, CancellationToken cancellation) => store().DeleteAsync(sessionKey, stream, cancellation);

        public Task<IReadOnlyList<StreamChunk>> ReadAsync(string sessionKey, string stream, string? afterEventId, CancellationToken cancellation) => store().ReadAsync(sessionKey, stream, afterEventId, cancellation);

        public Task<bool> ClaimAsync(string sessionKey, string stream, string execution, CancellationToken cancellation) => store().ClaimAsync(sessionKey, stream, execution, cancellation);

        public Task<string?> ClaimantAsync(string sessionKey, string stream, CancellationToken cancellation) => store().ClaimantAsync(sessionKey, stream, cancellation);
    }
}
