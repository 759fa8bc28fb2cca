using FunctionsChat.Domain;
using FunctionsChat.Tests.Http;
using FunctionsChat.Turns;

namespace FunctionsChat.Tests.Turns;

public class TurnStreamWriterTests
{
    sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = HttpHarness.Start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task Each_chunk_carries_the_sessions_newest_event_as_its_writer_last_read_it_at_most_every_250_ms()
    {
        var store = new InMemoryArchive();
        var clock = new ManualClock();
        long sessionEvents = 2;
        int reads = 0;
        var writer = new TurnStreamWriter(store, clock, "anonymous/s1", "stream", _ =>
        {
            reads++;
            return Task.FromResult(sessionEvents);
        });

        foreach (var (ms, events) in new[] { (100, 2L), (200, 3L), (300, 4L), (400, 5L), (700, 6L) })
        {
            clock.Now = HttpHarness.Start.AddMilliseconds(ms);
            sessionEvents = events;
            await writer.AddAsync("word ", default);
        }

        await writer.CompleteAsync(default);

        // Flushes at 100, 200, 300, 400 and 700 ms and the last: reads fall due at 100, 400 and 700 ms (250 ms apart at least).
        Assert.Equal([2L, 2L, 2L, 5L, 6L, 6L], store.StreamRows.Values.Select(c => c.After));
        Assert.Equal(3, reads);
    }

    [Fact]
    public async Task A_failed_read_of_the_session_keeps_the_last_number_and_the_answer_goes_on()
    {
        var store = new InMemoryArchive();
        var clock = new ManualClock();
        int reads = 0;
        var writer = new TurnStreamWriter(store, clock, "anonymous/s1", "stream", _ => ++reads == 1 ? Task.FromResult(4L) : throw new Azure.RequestFailedException("unavailable"));

        await writer.AddAsync(new string('x', TurnStreamWriter.FlushChars), default);
        clock.Now = clock.Now.AddSeconds(1);
        await writer.AddAsync(new string('y', TurnStreamWriter.FlushChars), default);

        Assert.Equal([4L, 4L], store.StreamRows.Values.Select(c => c.After));
    }
}
