using FunctionsChat.Domain;
using FunctionsChat.Llm;
using FunctionsChat.Sessions;
using FunctionsChat.Tests.Http;
using FunctionsChat.Turns;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using static FunctionsChat.Tests.Domain.Turns;

namespace FunctionsChat.Tests.Simulation;

/// <summary>Edges the real runtime produced, each replayed on purpose.</summary>
public class ScenarioTests
{
    static ChatSessionState? Session(DurableSimulation sim, string sessionId = "s1") => sim.State(SessionEntityIds.For(HttpHarness.Key(sessionId)));

    [Fact]
    public async Task A_turn_id_used_again_after_a_delete_gets_the_answer_to_its_own_message()
    {
        var sim = new DurableSimulation(seed: 7, faults: Faults.None);
        _ = sim.Send("s1", "poem", "Write a poem");
        // Stop while the first life's turn is running: its orchestration has the model's answer but has not reported.
        sim.RunUntil(() => sim.Counted("activity GenerateReply") == 1);

        var deleted = sim.DeleteSession("s1");
        sim.RunUntil(() => deleted.IsCompleted);
        _ = sim.Send("s1", "poem", "Write a limerick");
        sim.RunUntil(() => false);

        var turn = SessionQueries.FindTurn(Session(sim)!, "poem")!;
        Assert.Equal(204, Sent.StatusOf(await deleted));
        Assert.Equal(TurnStatus.Completed, turn.Status);
        Assert.Equal(SimulatedModel.AnswerTo("Write a limerick"), turn.Finished!.Answer);
        Assert.Equal(2, sim.Counted("orchestration ChatTurn"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task Two_messages_sent_with_one_key_at_the_same_moment_get_202_for_the_one_kept_and_422_for_the_other_with_nothing_of_it_stored(int seed)
    {
        // Both read the session before either is stored, as on the real runtime; the first stored holds the key, and
        // only its signal is sent, however the two interleave.
        var sim = new DurableSimulation(seed, faults: Faults.None with { ClientSignalSpread = TimeSpan.FromSeconds(2) });
        var poem = sim.Send("s1", "k1", "Write a poem");
        var limerick = sim.Send("s1", "k1", "Write a limerick");
        sim.RunUntil(() => false);

        var kept = SessionQueries.FindTurn(Session(sim)!, "k1")!;
        var (winner, loser, lost) = kept.MessageHash == Fingerprint.Of("Write a poem") ? (poem, limerick, "Write a limerick") : (limerick, poem, "Write a poem");
        Assert.IsType<Microsoft.AspNetCore.Mvc.AcceptedResult>(await winner);
        HttpHarness.Problem(await loser, 422, "idempotency-key-reused");
        Assert.DoesNotContain(lost, sim.Archive.Texts.Values);
        Assert.Equal(1, sim.Counted("orchestration ChatTurn"));
    }

    [Fact]
    public async Task An_answer_the_content_filter_withheld_inside_a_200_fails_the_call_with_llm_content_filtered()
    {
        var sim = new DurableSimulation(seed: 3, faults: Faults.None);
        sim.Model.FinishFor = _ => ChatFinishReason.ContentFilter;

        var call = sim.Call("s1", "k1", "Tell me something filtered");
        sim.RunUntil(() => false);

        var problem = HttpHarness.Problem(await call, 502, "turn-failed");
        Assert.Contains(ModelFailure.ContentFiltered, problem.Detail);
        var turn = Assert.Single(Session(sim)!.Turns);
        Assert.Equal((TurnStatus.Failed, ModelFailure.ContentFiltered, null), (turn.Status, turn.ErrorCode, turn.Answer));
        Assert.Equal(1, sim.Model.Calls); // permanent: not retried
    }

    [Fact]
    public async Task An_answer_cut_at_the_output_limit_is_answered_and_marked_truncated_on_the_turn_and_in_history()
    {
        var sim = new DurableSimulation(seed: 3, faults: Faults.None);
        sim.Model.FinishFor = _ => ChatFinishReason.Length;

        var call = sim.Call("s1", "k1", "Write a long story");
        sim.RunUntil(() => false);
        var history = await sim.Request((services, client) => sim.Create<FunctionsChat.Http.HistoryFunctions>()
            .GetHistory(HttpHarness.Request("GET", "/Chat/s1/getHistory", contentType: null), client, "s1"));

        var answer = (FunctionsChat.Http.AnswerView)Assert.IsType<Microsoft.AspNetCore.Mvc.OkObjectResult>(await call).Value!;
        Assert.True(answer.Truncated);
        var view = (FunctionsChat.Http.HistoryView)Assert.IsType<Microsoft.AspNetCore.Mvc.OkObjectResult>(history).Value!;
        Assert.Equal([false, true], view.Messages.Select(m => m.Truncated));
        Assert.Contains("\"truncated\":true", System.Text.Json.JsonSerializer.Serialize(answer));
    }

    [Fact]
    public async Task A_turn_archived_right_after_it_finished_still_answers_a_retried_call_its_Location_and_the_history()
    {
        // One turn larger than the working-set bound leaves the working set as soon as it finishes.
        var sim = new DurableSimulation(seed: 9, new SessionOptions { MaxWorkingBytes = 64 }, Faults.None);
        string message = "Write a long poem " + new string('x', 200);
        var first = sim.Send("s1", "big", message);
        sim.RunUntil(() => false);
        Assert.Equal((0, 1L), (Session(sim)!.Turns.Count, Session(sim)!.ArchivedThrough));

        var retried = sim.Call("s1", "big", message);
        var location = sim.GetTurn("s1", "big");
        var history = sim.Request((_, client) => sim.Create<FunctionsChat.Http.HistoryFunctions>()
            .GetHistory(HttpHarness.Request("GET", "/Chat/s1/getHistory", contentType: null), client, "s1"));
        sim.RunUntil(() => retried.IsCompleted && location.IsCompleted && history.IsCompleted);

        Assert.IsType<Microsoft.AspNetCore.Mvc.AcceptedResult>(await first);
        var answer = (FunctionsChat.Http.AnswerView)Assert.IsType<Microsoft.AspNetCore.Mvc.OkObjectResult>(await retried).Value!;
        Assert.Equal(SimulatedModel.AnswerTo(message), answer.Answer);
        var turn = (FunctionsChat.Http.TurnStatusView)Assert.IsType<Microsoft.AspNetCore.Mvc.OkObjectResult>(await location).Value!;
        Assert.Equal((TurnStatus.Completed, SimulatedModel.AnswerTo(message)), (turn.Status, turn.Answer));
        var view = (FunctionsChat.Http.HistoryView)Assert.IsType<Microsoft.AspNetCore.Mvc.OkObjectResult>(await history).Value!;
        Assert.Empty(view.Messages);
        Assert.Equal(2, view.Before);
        Assert.Equal(1, sim.Counted("orchestration ChatTurn"));
    }

    [Fact]
    public async Task The_Location_of_a_202_answers_the_turn_at_once_however_slowly_the_signal_travels()
    {
        var sim = new DurableSimulation(seed: 11, faults: Faults.None with { ClientSignalSpread = TimeSpan.FromSeconds(20) });
        var sent = sim.Send("s1", "poem-3", "Write a poem");
        sim.RunUntil(() => sent.IsCompleted);

        var read = sim.GetTurn("s1", "poem-3");
        sim.RunUntil(() => read.IsCompleted);

        Assert.IsType<Microsoft.AspNetCore.Mvc.AcceptedResult>(await sent);
        Assert.Equal(200, Sent.StatusOf(await read));
    }

    [Fact]
    public async Task A_send_whose_signal_is_slow_answers_202_at_once_and_the_retry_with_its_key_is_the_same_turn()
    {
        var sim = new DurableSimulation(seed: 5, faults: Faults.None with { ClientSignalSpread = TimeSpan.FromMinutes(2) });
        var first = sim.Send("s1", "k1", "Write a poem");
        sim.RunUntil(() => first.IsCompleted);
        Assert.IsType<Microsoft.AspNetCore.Mvc.AcceptedResult>(await first);
        Assert.Null(Session(sim));

        var retry = sim.Send("s1", "k1", "Write a poem");
        sim.RunUntil(() => false);

        Assert.IsType<Microsoft.AspNetCore.Mvc.AcceptedResult>(await retry);
        Assert.Single(sim.Archive.Texts.Keys, k => k.Key[20] == 'm');
        var turn = Assert.Single(Session(sim)!.Turns);
        Assert.Equal(("k1", TurnStatus.Completed), (turn.TurnId, turn.Status));
        Assert.Equal(1, sim.Counted("orchestration ChatTurn"));
    }

    [Fact]
    public void A_turn_whose_orchestration_never_reports_expires_even_when_an_earlier_expiry_signal_arrives_first()
    {
        var limits = Limits with { TurnTimeout = TimeSpan.FromMinutes(5) };
        // t1 finishes at once; t2 starts a minute later and never reports. The one expiry signal was armed for t1.
        var state = ChatSessionState.Empty
            .Apply(s => SessionTransitions.Enqueue(s, Request("t1"), T0, limits))
            .Apply(s => SessionTransitions.Complete(s, Completion("t1"), T0.AddSeconds(5), limits))
            .Apply(s => SessionTransitions.Enqueue(s, Request("t2") with { AcceptedAt = T0.AddMinutes(1) }, T0.AddMinutes(1), limits));
        var armed = state.ExpiryCheckAt!.Value;

        // Delivered 900 ms early, as queue visibility allows: it finds t2 not yet due and arms itself for t2.
        var first = SessionTransitions.Expire(state, new TurnExpiry("t1") { At = armed }, armed.AddMilliseconds(-900), limits);
        var rearmed = first.ExpiryCheckAt!.Value;
        // Early again, it arms itself once more for the same time; at that time t2 expires, never before.
        var second = SessionTransitions.Expire(first.State, new TurnExpiry("t2") { At = rearmed }, rearmed.AddMilliseconds(-900), limits);
        var third = SessionTransitions.Expire(second.State, new TurnExpiry("t2") { At = second.ExpiryCheckAt }, rearmed, limits);

        Assert.Equal(T0.AddMinutes(5), armed);
        Assert.Equal(TransitionNote.Rearmed, first.Note);
        Assert.Equal(T0.AddMinutes(6), rearmed);
        Assert.Equal((TransitionNote.Rearmed, rearmed), (second.Note, second.ExpiryCheckAt));
        Assert.Equal(TransitionNote.Applied, third.Note);
        Assert.Equal(ErrorCodes.TurnExpired, SessionQueries.FindTurn(third.State, "t2")!.Finished!.ErrorCode);
    }

    [Fact]
    public void An_enqueue_redelivered_after_a_delete_does_not_bring_the_session_back()
    {
        var request = Request("t1") with { AcceptedAt = T0 };
        var live = SessionTransitions.Enqueue(ChatSessionState.Empty, request, T0, Limits).State;
        var deleted = SessionTransitions.Delete(live, new SessionDeletion(T0.AddSeconds(1)), T0.AddSeconds(2), Limits).State;

        var redelivered = SessionTransitions.Enqueue(deleted, request, T0.AddSeconds(3), Limits);
        var later = SessionTransitions.Enqueue(deleted, Request("t2") with { AcceptedAt = T0.AddSeconds(4) }, T0.AddSeconds(4), Limits);
        var lateAfterRebirth = SessionTransitions.Enqueue(later.State, request, T0.AddSeconds(5), Limits);

        Assert.Equal(TransitionNote.Deleted, redelivered.Note);
        Assert.Same(deleted, redelivered.State);
        Assert.Null(redelivered.Start);
        Assert.Equal(1, later.State.Generation);
        Assert.Equal(TransitionNote.Deleted, lateAfterRebirth.Note);
    }

    [Fact]
    public void A_delete_redelivered_after_the_session_began_again_deletes_nothing_of_the_new_life()
    {
        var deleted = SessionTransitions.Delete(Enqueued("t1"), new SessionDeletion(T0.AddSeconds(1)), T0.AddSeconds(1), Limits).State;
        var reborn = SessionTransitions.Enqueue(deleted, Request("t2") with { AcceptedAt = T0.AddSeconds(2) }, T0.AddSeconds(2), Limits).State;

        var again = SessionTransitions.Delete(reborn, new SessionDeletion(T0.AddSeconds(1)), T0.AddSeconds(3), Limits);

        Assert.Equal(TransitionNote.Stale, again.Note);
        Assert.Equal(TurnStatus.Running, SessionQueries.FindTurn(again.State, "t2")!.Status);
    }

    [Theory]
    [InlineData("00:12:00", true, false)]
    [InlineData("00:09:00", false, false)]
    [InlineData("00:09:30", false, true)]
    [InlineData("00:12:30", true, true)]
    public void The_turn_timeout_must_cover_the_model_calls_with_every_retry(string turnTimeout, bool summaries, bool valid)
    {
        // Defaults: the answer takes 5 attempts of up to 60 s and 4 waits of up to 60 s (540 s); the summary step
        // 2 attempts and 1 wait (180 s) when summaries are on; plus 30 s of margin: 750 s, or 570 s without summaries.
        var validator = new SessionOptionsValidator(Options.Create(new LlmOptions { Summaries = summaries }));

        var result = validator.Validate(null, new SessionOptions { TurnTimeout = TimeSpan.Parse(turnTimeout, System.Globalization.CultureInfo.InvariantCulture) });

        Assert.Equal(valid, result.Succeeded);
        Assert.True(validator.Validate(null, new SessionOptions()).Succeeded, "the defaults fit");
        if (!valid)
        {
            Assert.Contains("Session__TurnTimeout", result.FailureMessage, StringComparison.Ordinal);
        }
    }
}
