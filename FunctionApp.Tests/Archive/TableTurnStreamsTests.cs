using Azure.Data.Tables;
using FunctionsChat.Archive;
using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Archive;

[Collection(AzuriteCollection.Name)]
public class TableTurnStreamsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Chunks_read_back_in_order_with_their_places_across_attempts_resume_exactly_after_any_event_or_reset_and_go_with_their_life()
    {
        var table = azurite.Table("s" + Guid.NewGuid().ToString("N")[..20]);
        var streams = new TableTurnStreams(table);
        string stream = StreamKeys.Of(T0, "turn-1");
        string first = StreamKeys.NewAttempt(T0.AddSeconds(1));
        string second = StreamKeys.NewAttempt(T0.AddSeconds(9));
        StreamChunk[] written =
        [
            new(first, 0, "Once <upon> ", false) { After = 2 }, new(first, 1, "a time", false) { After = 2 },
            new(second, 0, "Once upon ", false) { After = 3 }, new(second, 1, "a time, é漢😀.", true) { After = 5 },
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

        // A reader reset to the retried attempt reads it from its start; one that saw the old attempt's end moves on to it.
        Assert.Equal(written[2..], await streams.ReadAsync("session123", stream, StreamKeys.BeforeAttempt(second), CancellationToken.None));
        Assert.Equal(written[2..], await streams.ReadAsync("session123", stream, StreamKeys.ResumeAfter(second, first, written[1].EventId), CancellationToken.None));

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

    [Fact]
    public async Task A_turns_model_call_is_claimed_by_its_latest_execution_an_earlier_one_is_refused_and_the_claim_is_not_a_chunk()
    {
        var table = azurite.Table("s" + Guid.NewGuid().ToString("N")[..20]);
        var streams = new TableTurnStreams(table);
        string stream = StreamKeys.Of(T0, "turn-1");
        string earlier = "0638000000000000000" + Guid.NewGuid().ToString("N");
        string later = "0638000000000000001" + Guid.NewGuid().ToString("N");

        Assert.True(await streams.ClaimAsync("session123", stream, earlier, CancellationToken.None));
        Assert.True(await streams.ClaimAsync("session123", stream, earlier, CancellationToken.None));
        Assert.True(await streams.ClaimAsync("session123", stream, later, CancellationToken.None));
        Assert.False(await streams.ClaimAsync("session123", stream, earlier, CancellationToken.None));
        Assert.Equal(later, await streams.ClaimantAsync("session123", stream, CancellationToken.None));

        // Claimed at once by many executions, the latest holds it.
        var many = Enumerable.Range(2, 8).Select(i => $"063800000000000000{i}" + Guid.NewGuid().ToString("N")).ToArray();
        await Task.WhenAll(many.Reverse().Select(e => streams.ClaimAsync("session123", stream, e, CancellationToken.None)));
        Assert.Equal(many[^1], await streams.ClaimantAsync("session123", stream, CancellationToken.None));

        await streams.AppendAsync("session123", stream, new(StreamKeys.NewAttempt(T0), 0, "Once", true), CancellationToken.None);
        Assert.Equal(["Once"], (await streams.ReadAsync("session123", stream, null, CancellationToken.None)).Select(c => c.Text));
        Assert.Equal(1, await streams.DeleteAsync("session123", stream, CancellationToken.None));
        Assert.Null(await streams.ClaimantAsync("session123", stream, CancellationToken.None));
    }
}
