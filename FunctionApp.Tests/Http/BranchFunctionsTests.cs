using System.Text.Json;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using Microsoft.AspNetCore.Mvc;

namespace FunctionsChat.Tests.Http;

public class BranchFunctionsTests
{
    static readonly DateTimeOffset Start = HttpHarness.Start;

    /// <summary>t1, t2 and t3 of session123, completed one after another.</summary>
    static HttpHarness Three()
    {
        var http = new HttpHarness { EntityApplies = true };
        var limits = http.Session.Limits;
        http.State = new[] { "t1", "t2", "t3" }.Aggregate(ChatSessionState.Empty, (s, id) =>
            SessionTransitions.Complete(
                SessionTransitions.Enqueue(s, new TurnRequest("session123", id, "message " + id, Start), Start, limits).State,
                new TurnCompletion(id, "answer " + id, "gpt-test", new TokenUsage(1, 1), Start), Start, limits).State);
        return http;
    }

    static Task<IActionResult> Regenerate(HttpHarness http, string turnId, string? body = null, string? key = null) =>
        http.Branches.RegenerateTurn(HttpHarness.Request("POST", $"/Chat/session123/turns/{turnId}/regenerate", body, body is null ? null : "application/json", key), http.Client.Object, "session123", turnId);

    static Task<IActionResult> Edit(HttpHarness http, string turnId, string body, string? key = null) =>
        http.Branches.EditTurn(HttpHarness.Request("POST", $"/Chat/session123/turns/{turnId}/edit", body, idempotencyKey: key), http.Client.Object, "session123", turnId);

    static Task<IActionResult> Switch(HttpHarness http, string body) =>
        http.Branches.SwitchBranch(HttpHarness.Request("PUT", "/Chat/session123/branch", body), http.Client.Object, "session123");

    static async Task<HistoryView> History(HttpHarness http, string sessionId = "session123", string? query = null)
    {
        var request = HttpHarness.Request("GET", $"/Chat/{sessionId}/getHistory");
        request.QueryString = query is null ? default : new Microsoft.AspNetCore.Http.QueryString("?" + query);
        return (HistoryView)Assert.IsType<OkObjectResult>(await http.History.GetHistory(request, http.Client.Object, sessionId)).Value!;
    }

    [Fact]
    public async Task Regenerating_the_newest_turn_enqueues_its_message_again_as_a_variant_and_answers_202_with_the_new_turns_Location()
    {
        var http = Three();

        var result = await Regenerate(http, "t3", key: "r3");

        Assert.Equal("/Chat/session123/turns/r3", Assert.IsType<AcceptedResult>(result).Location);
        var (_, operation, input) = Assert.Single(http.Signals);
        var request = (TurnRequest)input!;
        Assert.Equal(("Enqueue", "message t3", new VariantRequest("t3", 3, 2, 0)), (operation, request.Message, request.VariantOf));
        Assert.Equal((4L, 2L, 4L), (http.State!.Head!.Value, Branches.ParentOf(http.State.Active!.Turn), http.State.Active.Turn.Branch));
    }

    [Fact]
    public async Task Regenerating_a_turn_with_later_turns_is_409_unless_the_caller_says_later_and_nothing_is_stored_or_sent()
    {
        var http = Three();

        var refused = await Regenerate(http, "t2");
        Assert.Empty(http.Signals);
        Assert.Empty(http.Archive.Texts);
        var allowed = await Regenerate(http, "t2", """{"later": true}""");

        HttpHarness.Problem(refused, 409, "turn-has-later-turns");
        Assert.IsType<AcceptedResult>(allowed);
        Assert.Equal(new VariantRequest("t2", 2, 1, 0) { Later = true }, ((TurnRequest)Assert.Single(http.Signals).Input!).VariantOf);
    }

    [Fact]
    public async Task An_edit_sends_the_new_message_after_the_edited_turns_parent_and_the_history_follows_the_new_branch_with_its_variants()
    {
        var http = Three();

        var result = await Edit(http, "t2", """{"message": "message t2, edited"}""", key: "e2");
        http.State = SessionTransitions.Complete(http.State!, new TurnCompletion("e2", "answer e2", "gpt-test", new TokenUsage(1, 1), Start), Start, http.Session.Limits).State;
        var history = await History(http);

        Assert.IsType<AcceptedResult>(result);
        var sent = (TurnRequest)Assert.Single(http.Signals).Input!;
        Assert.Equal(("message t2, edited", new VariantRequest("t2", 2, 1, 0) { Edit = true, Later = true }), (sent.Message, sent.VariantOf));
        Assert.Equal(["message t1", "answer t1", "message t2, edited", "answer e2"], history.Messages.Select(m => m.Content));
        Assert.Equal(new VariantsView(2, 2, [2, 4]), history.Messages[2].Variants, new VariantsComparer());
        Assert.Null(history.Messages[0].Variants);
    }

    [Fact]
    public async Task A_switch_by_turn_or_by_variant_follows_that_line_to_its_newest_turn_and_the_history_shows_it()
    {
        var http = Three();
        await Edit(http, "t2", """{"message": "message t2, edited"}""", key: "e2");
        http.State = SessionTransitions.Complete(http.State!, new TurnCompletion("e2", "answer e2", "gpt-test", new TokenUsage(1, 1), Start), Start, http.Session.Limits).State;

        var back = await Switch(http, """{"turnId": "t2"}""");
        var backHistory = await History(http);
        var again = await Switch(http, """{"sequence": 4}""");
        var againHistory = await History(http);

        Assert.Equal(new BranchView("session123", 0, 3), Assert.IsType<OkObjectResult>(back).Value);
        Assert.Equal(["t1", "t2", "t3"], backHistory.Messages.Where(m => m.Role == "user").Select(m => m.TurnId));
        Assert.Equal(new BranchView("session123", 4, 4), Assert.IsType<OkObjectResult>(again).Value);
        Assert.Equal(["t1", "e2"], againHistory.Messages.Where(m => m.Role == "user").Select(m => m.TurnId));
    }

    [Fact]
    public async Task A_retried_regenerate_is_the_same_turn_even_once_its_turn_has_left_the_branch_and_an_edit_takes_a_message_of_any_allowed_size()
    {
        var http = Three();
        await Regenerate(http, "t3", key: "r3");

        var retry = await Regenerate(http, "t3", key: "r3");
        string long5k = new('a', 5_000);
        var edit = await Edit(http, "t1", $$"""{"message": "{{long5k}}"}""", key: "e1");

        Assert.Equal("/Chat/session123/turns/r3", Assert.IsType<AcceptedResult>(retry).Location);
        Assert.Single(http.Signals, s => ((TurnRequest)s.Input!).TurnId == "r3");
        Assert.IsType<AcceptedResult>(edit);
        Assert.Equal(long5k, http.Archive.Texts[(HttpHarness.Key(), ((TurnRequest)http.Signals[^1].Input!).MessageRef!)]);
    }

    [Fact]
    public async Task A_turn_archived_before_the_window_of_known_ids_is_found_by_the_sequence_the_history_gave_it()
    {
        var http = Three();
        var t1 = http.State!.Turns[0];
        await http.Archive.WriteAsync(HttpHarness.Key(), [t1], CancellationToken.None);
        http.State = http.State with { Turns = [.. http.State.Turns.Skip(1)], ArchivedThrough = 1, ArchivedIds = [] };

        var byId = await Regenerate(http, "t1", """{"later": true}""");
        var request = HttpHarness.Request("POST", "/Chat/session123/turns/t1/regenerate", """{"later": true}""", idempotencyKey: "r1");
        request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?sequence=1");
        var bySequence = await http.Branches.RegenerateTurn(request, http.Client.Object, "session123", "t1");
        var wrongTurn = HttpHarness.Request("POST", "/Chat/session123/turns/t9/regenerate", """{"later": true}""");
        wrongTurn.QueryString = new Microsoft.AspNetCore.Http.QueryString("?sequence=1");

        HttpHarness.Problem(byId, 404, "turn-not-found");
        Assert.IsType<AcceptedResult>(bySequence);
        Assert.Equal(new VariantRequest("t1", 1, 0, 0) { Later = true }, ((TurnRequest)Assert.Single(http.Signals).Input!).VariantOf);
        HttpHarness.Problem(await http.Branches.RegenerateTurn(wrongTurn, http.Client.Object, "session123", "t9"), 404, "turn-not-found");
    }

    [Fact]
    public async Task A_variant_of_a_queued_turn_a_turn_on_another_branch_or_past_the_branch_limit_is_409_with_nothing_sent()
    {
        var http = Three();
        await Edit(http, "t2", """{"message": "edited"}""", key: "e2");
        http.Signals.Clear();

        var queued = await Regenerate(http, "e2");
        http.State = SessionTransitions.Complete(http.State!, new TurnCompletion("e2", "answer e2", "gpt-test", new TokenUsage(1, 1), Start), Start, http.Session.Limits).State;
        var offBranch = await Regenerate(http, "t3");
        http.Session.MaxBranches = 2;
        var full = await Regenerate(http, "e2");

        HttpHarness.Problem(queued, 409, "turn-not-finished");
        HttpHarness.Problem(offBranch, 409, "turn-not-on-branch");
        HttpHarness.Problem(full, 409, "too-many-branches");
        Assert.Empty(http.Signals);
    }

    [Fact]
    public async Task A_fork_copies_the_line_up_to_the_turn_words_and_all_into_a_new_session_of_the_same_caller_that_refers_to_nothing_of_the_original()
    {
        var http = Three();
        await Edit(http, "t2", """{"message": "message t2, edited"}""", key: "e2");
        http.State = SessionTransitions.Complete(http.State!, new TurnCompletion("e2", "answer e2", "gpt-test", new TokenUsage(1, 1), Start), Start, http.Session.Limits).State;
        var original = http.State;

        var result = await http.Branches.ForkSession(HttpHarness.Request("POST", "/Chat/session123/fork", """{"sessionId": "copy", "turnId": "e2"}"""), http.Client.Object, "session123");
        var rival = await http.Branches.ForkSession(HttpHarness.Request("POST", "/Chat/session123/fork", """{"sessionId": "copy", "turnId": "t3"}"""), http.Client.Object, "session123");

        var created = Assert.IsType<CreatedResult>(result);
        Assert.Equal(new ForkView("copy", new ForkOrigin("session123", "e2"), 2, "/Chat/copy/getHistory"), created.Value);
        var copy = http.Store[FunctionsChat.Sessions.SessionEntityIds.For(HttpHarness.Key("copy"))];
        Assert.Equal((2L, 3L, (long?)null), (copy.ArchivedThrough, copy.NextSequence, copy.Head));
        var rows = http.Archive.Sessions[HttpHarness.Key("copy")].Values;
        Assert.Equal([(1L, "t1", "message t1", "answer t1"), (2L, "e2", "message t2, edited", "answer e2")], rows.Select(t => (t.Sequence, t.TurnId, t.Message, t.Answer!)));
        Assert.All(rows, t => Assert.Equal((null, 0L, null, null), (t.Parent, t.Branch, t.MessageRef, t.AnswerRef)));
        Assert.Same(original, http.State);
        HttpHarness.Problem(rival, 409, "session-exists");
        Assert.Equal(["message t1", "answer t1", "message t2, edited", "answer e2"], (await History(http, "copy", "limit=20")).Messages.Select(m => m.Content));
    }

    [Theory]
    [InlineData("{}", 400, "missing-field")]
    [InlineData("""{"turnId": "bad id"}""", 400, "invalid-turn-id")]
    [InlineData("""{"sequence": "4"}""", 400, "invalid-json")]
    [InlineData("""{"sequence": 9}""", 404, "turn-not-found")]
    [InlineData("[1]", 400, "invalid-json")]
    public async Task A_switch_that_names_no_turn_is_a_problem_and_changes_nothing(string body, int status, string type)
    {
        var http = Three();
        var before = http.State;

        HttpHarness.Problem(await Switch(http, body), status, type);

        Assert.Empty(http.Signals);
        Assert.Same(before, http.State);
    }

    sealed class VariantsComparer : IEqualityComparer<VariantsView?>
    {
        public bool Equals(VariantsView? x, VariantsView? y) => x!.Index == y!.Index && x.Count == y.Count && x.Sequences.SequenceEqual(y.Sequences);

        public int GetHashCode(VariantsView? view) => view!.Index;
    }
}
