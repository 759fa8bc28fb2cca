using Azure.Data.Tables;
using FunctionsChat.Archive;
using FunctionsChat.Domain;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Archive;

[Collection(AzuriteCollection.Name)]
public class TableTranscriptArchiveTests(AzuriteFixture azurite)
{
    static TranscriptTurn Turn(long sequence, string? answer = null) =>
        new($"t{sequence}", sequence, TurnStatus.Completed, $"question {sequence}", Fingerprint.Of($"question {sequence}"), T0, T0.AddSeconds(sequence))
        {
            Answer = answer ?? $"answer {sequence}",
            Model = "gpt-test",
            Usage = new TokenUsage(sequence, 2),
        };

    (TableTranscriptArchive Archive, TableClient Table) Archive()
    {
        var table = azurite.Table("t" + Guid.NewGuid().ToString("N")[..20]);
        return (new TableTranscriptArchive(table), table);
    }

    static async Task<int> Rows(TableClient table, string sessionKey)
    {
        int rows = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(e => e.PartitionKey == sessionKey))
        {
            rows++;
        }

        return rows;
    }

    [Fact]
    public async Task Stored_words_come_back_whole_stay_out_of_turn_pages_and_a_deletion_takes_only_the_rows_of_the_lives_it_erases()
    {
        var (archive, table) = Archive();
        string escaped = string.Concat(Enumerable.Repeat("<&'é漢😀\u0001", 20_000));
        string before = TextKeys.Message(T0, Fingerprint.Of(escaped));
        string answer = TextKeys.Answer(T0, Fingerprint.Of("short"));
        string after = TextKeys.Message(T0.AddSeconds(5), Fingerprint.Of("next life"));
        await archive.WriteTextAsync("session123", before, escaped, CancellationToken.None);
        await archive.WriteTextAsync("session123", answer, "short", CancellationToken.None);
        await archive.WriteTextAsync("session123", after, "next life", CancellationToken.None);
        await archive.WriteAsync("session123", [Turn(1)], CancellationToken.None);

        Assert.Equal(escaped, await archive.ReadTextAsync("session123", before, CancellationToken.None));
        Assert.Null(await archive.ReadTextAsync("other", before, CancellationToken.None));
        Assert.Equal([Turn(1)], await archive.ReadBeforeAsync("session123", long.MaxValue, 10, CancellationToken.None));

        // The next life's turn and summary, written before the first life's rows are swept.
        await archive.WriteAsync("session123", [Turn(2) with { AcceptedAt = T0.AddSeconds(5) }], CancellationToken.None);
        await archive.WriteSummaryAsync("session123", new ConversationSummary(1, "next life's summary", T0.AddSeconds(6)) { Generation = 1 }, CancellationToken.None);

        Assert.Equal(3, await archive.DeleteAsync("session123", new Erasure(T0.AddSeconds(1), 0), CancellationToken.None));
        Assert.Equal(3, await Rows(table, "session123"));
        Assert.Equal("next life", await archive.ReadTextAsync("session123", after, CancellationToken.None));
        Assert.Equal([Turn(2) with { AcceptedAt = T0.AddSeconds(5) }], await archive.ReadBeforeAsync("session123", long.MaxValue, 10, CancellationToken.None));
        Assert.Equal(0, await archive.DeleteAsync("session123", new Erasure(T0.AddSeconds(4), 0), CancellationToken.None));
        Assert.Equal(3, await archive.DeleteAsync("session123", new Erasure(T0.AddSeconds(5), 1), CancellationToken.None));
        Assert.Equal(0, await Rows(table, "session123"));
    }

    [Fact]
    public async Task The_first_request_stored_under_a_key_holds_it_with_its_words_and_a_rival_stores_nothing()
    {
        var (archive, table) = Archive();
        var poem = RequestRecord.Of(TurnRequest.For("s1", "k1", "Write a poem", T0));
        var limerick = RequestRecord.Of(TurnRequest.For("s1", "k1", "Write a limerick", T0.AddSeconds(1)));

        var first = await archive.StoreRequestAsync("session123", poem, "Write a poem", null, CancellationToken.None);
        var rival = await archive.StoreRequestAsync("session123", limerick, "Write a limerick", null, CancellationToken.None);

        Assert.Null(first);
        Assert.Equal(poem, rival! with { ETag = null });
        Assert.Equal("Write a poem", await archive.ReadTextAsync("session123", poem.MessageRef, CancellationToken.None));
        Assert.Null(await archive.ReadTextAsync("session123", limerick.MessageRef, CancellationToken.None));
        Assert.Equal(2, await Rows(table, "session123"));
        // Turn pages never read a request record.
        Assert.Empty(await archive.ReadBeforeAsync("session123", long.MaxValue, 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_request_record_is_replaced_only_as_it_was_read_and_goes_with_the_life_that_accepted_it()
    {
        var (archive, table) = Archive();
        var poem = RequestRecord.Of(TurnRequest.For("s1", "k1", "Write a poem", T0));
        var retry = RequestRecord.Of(TurnRequest.For("s1", "k1", "Write a poem", T0.AddSeconds(5)));
        await archive.StoreRequestAsync("session123", poem, "Write a poem", null, CancellationToken.None);
        var held = await archive.ReadRequestAsync("session123", "k1", CancellationToken.None);

        Assert.Null(await archive.StoreRequestAsync("session123", retry, "Write a poem", held, CancellationToken.None));
        var stale = await archive.StoreRequestAsync("session123", poem, "Write a poem", held, CancellationToken.None);

        Assert.Equal(retry, stale! with { ETag = null });
        Assert.Equal(retry, (await archive.ReadRequestAsync("session123", "k1", CancellationToken.None))! with { ETag = null });
        Assert.Null(await archive.ReadRequestAsync("other", "k1", CancellationToken.None));
        await archive.DeleteAsync("session123", new Erasure(T0.AddSeconds(1), 0), CancellationToken.None);
        Assert.NotNull(await archive.ReadRequestAsync("session123", "k1", CancellationToken.None));
        await archive.DeleteAsync("session123", new Erasure(T0.AddSeconds(5), 0), CancellationToken.None);
        Assert.Null(await archive.ReadRequestAsync("session123", "k1", CancellationToken.None));
        Assert.Equal(0, await Rows(table, "session123"));
    }

    [Fact]
    public async Task Archived_turns_page_back_in_order_across_several_pages_with_no_gaps_or_repeats()
    {
        var (archive, _) = Archive();
        var turns = Enumerable.Range(1, 30).Select(i => Turn(i)).ToList();
        foreach (var batch in turns.Chunk(12))
        {
            await archive.WriteAsync("session123", batch, CancellationToken.None);
        }

        var read = new List<TranscriptTurn>();
        long before = 31;
        while (before > 1)
        {
            var page = await archive.ReadBeforeAsync("session123", before, 7, CancellationToken.None);
            Assert.InRange(page.Count, 1, 7);
            read.InsertRange(0, page);
            before = page[0].Sequence;
        }

        Assert.Equal(turns, read);
    }

    [Fact]
    public async Task Turns_of_text_the_serializer_escapes_six_fold_are_archived_and_read_back_whole_in_batches_under_the_transaction_limit()
    {
        var (archive, table) = Archive();
        // A maximum message of '<' (six bytes each as JSON) and a 300 KB answer of '&', 'é' and control characters.
        string message = new('<', 32 * 1024);
        string answer = string.Concat(Enumerable.Repeat("&é\u0001'\"", 60_000));
        var turns = Enumerable.Range(1, 12).Select(i => Turn(i, answer) with { Message = message + i }).ToList();

        await archive.WriteAsync("session123", turns, CancellationToken.None);

        Assert.Equal(12, await Rows(table, "session123"));
        var read = await archive.ReadBeforeAsync("session123", 13, 12, CancellationToken.None);
        Assert.Equal(turns, read);
    }

    [Fact]
    public async Task The_summary_is_kept_beside_the_turns_never_read_as_one_and_deleted_with_them()
    {
        var (archive, table) = Archive();
        await archive.WriteAsync("session123", [Turn(1), Turn(2)], CancellationToken.None);
        var summary = new ConversationSummary(2, "The user asked two questions <&é>. " + new string('x', 70_000), T0);

        await archive.WriteSummaryAsync("session123", summary, CancellationToken.None);

        Assert.Equal(summary, await archive.ReadSummaryAsync("session123", CancellationToken.None));
        Assert.Equal([Turn(1), Turn(2)], await archive.ReadBeforeAsync("session123", long.MaxValue, 10, CancellationToken.None));
        Assert.Null(await archive.ReadSummaryAsync("other", CancellationToken.None));
        Assert.Equal(3, await archive.DeleteAsync("session123", new Erasure(DateTimeOffset.MaxValue, long.MaxValue), CancellationToken.None));
        Assert.Equal(0, await Rows(table, "session123"));
    }

    [Fact]
    public async Task Rows_written_in_the_first_format_are_still_read()
    {
        var (archive, table) = Archive();
        var turn = Turn(1);
        await table.CreateIfNotExistsAsync();
        await table.UpsertEntityAsync(new TableEntity("session123", TableTranscriptArchive.RowKey(1))
        {
            ["Sequence"] = 1L,
            ["TurnId"] = "t1",
            ["Chunks"] = 1,
            ["Turn0"] = System.Text.Json.JsonSerializer.Serialize(turn),
        });

        Assert.Equal([turn], await archive.ReadBeforeAsync("session123", 2, 5, CancellationToken.None));
    }

    [Fact]
    public async Task Writing_the_same_batch_again_writes_no_duplicate()
    {
        var (archive, table) = Archive();
        var batch = Enumerable.Range(1, 10).Select(i => Turn(i)).ToList();

        await archive.WriteAsync("session123", batch, CancellationToken.None);
        await archive.WriteAsync("session123", batch, CancellationToken.None);

        Assert.Equal(10, await Rows(table, "session123"));
        Assert.Equal(batch, await archive.ReadBeforeAsync("session123", 11, 100, CancellationToken.None));
    }

    [Fact]
    public async Task A_write_whose_confirmation_is_lost_is_written_again_and_loses_and_duplicates_nothing()
    {
        var (archive, table) = Archive();
        var limits = Limits with { MaxWorkingTurns = 4 };
        var state = ChatSessionState.Empty;
        ArchiveStart? first = null;
        for (int i = 1; i <= 5; i++)
        {
            state = SessionTransitions.Enqueue(state, Request($"t{i}", $"q{i}"), T0, limits).State;
            var done = SessionTransitions.Complete(state, Completion($"t{i}", $"a{i}"), T0, limits);
            first ??= done.Archive;
            state = done.State;
        }

        await archive.WriteAsync("session123", first!.Turns, CancellationToken.None); // written; the confirmation never arrives

        state = SessionTransitions.Enqueue(state, Request("t6", "q6"), T0, limits).State;
        var again = SessionTransitions.Complete(state, Completion("t6", "a6"), T0 + limits.ArchiveTimeout, limits);
        Assert.NotNull(again.Archive);
        await archive.WriteAsync("session123", again.Archive.Turns, CancellationToken.None);
        state = SessionTransitions.ConfirmArchived(again.State, new ArchiveReport(again.Archive.BatchId, again.Archive.ThroughSequence), T0, limits).State;

        var archived = await archive.ReadBeforeAsync("session123", state.ArchivedThrough + 1, 100, CancellationToken.None);
        var everything = archived.Concat(state.Turns).Select(t => (t.TurnId, t.Message, t.Answer)).ToList();
        Assert.Equal(Enumerable.Range(1, 6).Select(i => ($"t{i}", $"q{i}", (string?)$"a{i}")), everything);
        Assert.Equal(state.ArchivedThrough, await Rows(table, "session123"));
    }

    [Fact]
    public async Task Deleting_a_session_removes_its_archive_and_nothing_of_another_session()
    {
        var (archive, table) = Archive();
        await archive.WriteAsync("session123", Enumerable.Range(1, 150).Select(i => Turn(i)).ToList(), CancellationToken.None);
        await archive.WriteAsync("session456", [Turn(1)], CancellationToken.None);

        int deleted = await archive.DeleteAsync("session123", new Erasure(DateTimeOffset.MaxValue, long.MaxValue), CancellationToken.None);

        Assert.Equal(150, deleted);
        Assert.Equal(0, await Rows(table, "session123"));
        Assert.Empty(await archive.ReadBeforeAsync("session123", long.MaxValue, 10, CancellationToken.None));
        Assert.Equal(1, await Rows(table, "session456"));
    }

    [Fact]
    public async Task A_turn_larger_than_a_table_property_round_trips_whole()
    {
        var (archive, _) = Archive();
        var large = Turn(1, answer: string.Concat(Enumerable.Repeat("Durable execution persists every step. ", 4_000)));

        await archive.WriteAsync("session123", [large], CancellationToken.None);

        Assert.Equal(large, Assert.Single(await archive.ReadBeforeAsync("session123", 2, 10, CancellationToken.None)));
    }
}
