using Azure.Data.Tables;
using FunctionsChat.Archive;
using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Archive;

[Collection(AzuriteCollection.Name)]
public class TableTurnStreamsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Chunks_read_back_in_order_across_attempts_resume_exactly_after_any_event_and_go_with_their_life()
    {
        var table = azurite.Table("s" + Guid.NewGuid().ToString("N")[..20]);
        var streams = new TableTurnStreams(table);
        string stream = StreamKeys.Of(T0, "turn-1");
        string first = StreamKeys.NewAttempt(T0.AddSeconds(1));
        string second = StreamKeys.NewAttempt(T0.AddSeconds(9));
        StreamChunk[] written =
        [
            new(first, 0, "Once <upon> ", false), new(first, 1, "a time", false),
            new(second, 0, "Once upon ", false), new(second, 1, "a time, é漢😀.", true),
        ];
        foreach (var chunk in written.Reverse())
        {
            await streams.AppendAsync("session123", stream, chunk, CancellationToken.None);
        }

        await streams.AppendAsync("session123", StreamKeys.Of(T0, "turn-2"), new(first, 0, "another turn", true), CancellationToken.None);

        Assert.Equal(written, await streams.ReadAsync("session123", stream, null, CancellationToken.None));
        for (int i = 0; i < written.Length; i++)
        {
            Assert.Equal(written[(i + 1)..], await streams.ReadAsync("session123", stream, written[i].EventId, CancellationToken.None));
        }

        // Dropping one turn's stream leaves the others.
        Assert.Equal(1, await streams.DeleteAsync("session123", StreamKeys.Of(T0, "turn-2"), CancellationToken.None));
        Assert.Equal(written, await streams.ReadAsync("session123", stream, null, CancellationToken.None));

        // The stream goes with its life's other rows; a later life's stays.
        await streams.AppendAsync("session123", StreamKeys.Of(T0.AddSeconds(60), "turn-1"), new(second, 0, "next life", true), CancellationToken.None);
        var archive = new TableTranscriptArchive(table);
        Assert.Equal(4, await archive.DeleteAsync("session123", new Erasure(T0.AddSeconds(30), 0), CancellationToken.None));
        Assert.Empty(await streams.ReadAsync("session123", stream, null, CancellationToken.None));
        Assert.Single(await streams.ReadAsync("session123", StreamKeys.Of(T0.AddSeconds(60), "turn-1"), null, CancellationToken.None));
    }
}
