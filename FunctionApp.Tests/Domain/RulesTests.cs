using System.Text;
using System.Text.Json;
using FunctionsChat.Domain;

namespace FunctionsChat.Tests.Domain;

public class SessionIdsTests
{
    [Theory]
    [InlineData("session123")]
    [InlineData("a")]
    [InlineData("A.b_c~d-9")]
    public void Ids_of_the_allowed_characters_and_length_are_valid(string id) => Assert.True(SessionIds.IsValid(id));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("slash/")]
    [InlineData("at@sign")]
    [InlineData("ümlaut")]
    public void Ids_outside_the_shape_are_invalid(string? id) => Assert.False(SessionIds.IsValid(id));

    [Fact]
    public void Ids_longer_than_128_characters_are_invalid()
    {
        Assert.True(SessionIds.IsValid(new string('a', 128)));
        Assert.False(SessionIds.IsValid(new string('a', 129)));
    }

    [Fact]
    public void Turn_instance_ids_are_readable_and_never_longer_than_256_characters()
    {
        Assert.Equal("chatturn:session123:t1:0.1", SessionIds.TurnInstanceId("session123", "t1", "0.1"));
        string longest = SessionIds.TurnInstanceId(new string('s', 128), new string('t', 128), "0.1");
        Assert.True(longest.Length <= 256);
        Assert.NotEqual(longest, SessionIds.TurnInstanceId(new string('s', 128), new string('u', 128), "0.1"));
        Assert.NotEqual(longest, SessionIds.TurnInstanceId(new string('s', 128), new string('t', 128), "1.1"));
    }

    [Fact]
    public void Every_turn_and_archive_instance_id_of_a_session_starts_with_its_prefix_even_hashed_and_no_other_sessions_do()
    {
        string key = new string('o', 32) + ":" + new string('s', 128);
        string longestRun = $"{long.MaxValue}.{long.MaxValue}";
        string hashed = SessionIds.TurnInstanceId(key, new string('t', 128), longestRun);

        Assert.StartsWith(SessionIds.TurnPrefix(key), hashed);
        Assert.Equal($"{SessionIds.TurnPrefix(key)}#{Fingerprint.Of(new string('t', 128))}:{longestRun}", hashed);
        Assert.True(hashed.Length <= 256);
        Assert.StartsWith(SessionIds.TurnRunsPrefix(key, new string('t', 128)), SessionIds.TurnInstanceId(key, new string('t', 128), "0.1"));
        Assert.StartsWith(SessionIds.ArchivePrefix(key), SessionIds.ArchiveInstanceId(key, new string('b', 128)));
        Assert.False(SessionIds.TurnInstanceId("owner:s12", "t1", "0.1").StartsWith(SessionIds.TurnPrefix("owner:s1"), StringComparison.Ordinal));
        Assert.False(SessionIds.TurnInstanceId("owner:s1", "t12", "0.1").StartsWith(SessionIds.TurnRunsPrefix("owner:s1", "t1"), StringComparison.Ordinal));
    }
}

public class RetryScheduleTests
{
    static readonly RetrySchedule Schedule = new(5, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(60));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(4, 8)]
    public void Transient_failures_back_off_exponentially_from_one_second(int failedAttempts, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Schedule.DelayAfter(failedAttempts, new ModelFailure(ModelFailure.ServerError, "503")));

    [Fact]
    public void No_retry_once_the_attempts_are_spent() =>
        Assert.Null(Schedule.DelayAfter(5, new ModelFailure(ModelFailure.ServerError, "503")));

    [Theory]
    [InlineData(ModelFailure.BadRequest)]
    [InlineData(ModelFailure.ContentFiltered)]
    [InlineData(ModelFailure.Unauthorized)]
    [InlineData(ModelFailure.Forbidden)]
    [InlineData(ModelFailure.NotFound)]
    [InlineData(ModelFailure.ContextTooLong)]
    [InlineData(ErrorCodes.ActivityFailed)]
    public void Permanent_failures_are_never_retried(string code) =>
        Assert.Null(Schedule.DelayAfter(1, new ModelFailure(code, "no")));

    [Fact]
    public void Unclassified_failures_are_never_retried() => Assert.Null(Schedule.DelayAfter(1, null));

    [Fact]
    public void Retry_after_longer_than_the_back_off_is_waited_for_within_the_maximum_interval()
    {
        Assert.Equal(TimeSpan.FromSeconds(7), Schedule.DelayAfter(1, new ModelFailure(ModelFailure.RateLimited, "429", TimeSpan.FromSeconds(7))));
        Assert.Equal(TimeSpan.FromSeconds(60), Schedule.DelayAfter(1, new ModelFailure(ModelFailure.RateLimited, "429", TimeSpan.FromMinutes(5))));
        Assert.Equal(TimeSpan.FromSeconds(4), Schedule.DelayAfter(3, new ModelFailure(ModelFailure.RateLimited, "429", TimeSpan.FromSeconds(1))));
    }

    [Fact]
    public void Back_off_is_capped_at_the_maximum_interval() =>
        Assert.Equal(TimeSpan.FromSeconds(60), new RetrySchedule(20, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(60)).DelayAfter(10, new ModelFailure(ModelFailure.Timeout, "t")));
}

public class ModelFailureTests
{
    [Fact]
    public void A_failure_survives_the_trip_through_an_exception_message()
    {
        var failure = new ModelFailure(ModelFailure.RateLimited, "Too many requests", TimeSpan.FromMilliseconds(2500));

        var read = ModelFailure.Find(["Function 'GenerateReply' failed: " + failure.ToMessage()]);

        Assert.Equal(failure, read);
        Assert.True(read!.IsTransient);
    }

    [Fact]
    public void The_marker_is_found_in_any_of_the_texts_and_its_absence_is_null()
    {
        Assert.Equal(ModelFailure.Unauthorized, ModelFailure.Find([null, "(unknown)", "[llm.unauthorized] bad key"])?.Code);
        Assert.Null(ModelFailure.Find(["System.NullReferenceException: oops"]));
    }
}

public class MessageInputTests
{
    static (string? Message, ApiProblem? Problem) Parse(string body, int max = 32)
    {
        var (message, _, problem) = MessageInput.Parse(Encoding.UTF8.GetBytes(body), max);
        return (message, problem);
    }

    [Fact]
    public void An_object_with_a_message_string_is_read() => Assert.Equal("Hello", Parse("{\"message\":\"Hello\"}").Message);

    [Fact]
    public void A_body_that_starts_with_a_UTF8_byte_order_mark_is_read_as_without_it()
    {
        byte[] body = [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("{\"message\":\"Hello\"}")];

        var (message, _, problem) = MessageInput.Parse(body, 32);

        Assert.Equal(("Hello", null), (message, problem));
    }

    [Theory]
    [InlineData("not json", "invalid-json")]
    [InlineData("{\"message\":", "invalid-json")]
    [InlineData("", "invalid-json")]
    [InlineData("{}", "missing-message")]
    [InlineData("{\"message\":42}", "missing-message")]
    [InlineData("[\"Hello\"]", "missing-message")]
    [InlineData("{\"message\":\"   \"}", "empty-message")]
    public void Bad_bodies_are_refused_with_their_own_problem_type(string body, string type)
    {
        var (message, problem) = Parse(body);
        Assert.Null(message);
        Assert.Equal(400, problem!.Status);
        Assert.EndsWith(":" + type, problem.Type);
    }

    [Fact]
    public void A_message_over_the_byte_bound_is_413_counting_utf8_bytes()
    {
        Assert.Null(Parse($"{{\"message\":\"{new string('é', 16)}\"}}").Problem); // 32 bytes
        Assert.Equal(413, Parse($"{{\"message\":\"{new string('é', 17)}\"}}").Problem?.Status);
        Assert.Equal(413, Parse(new string(' ', MessageInput.MaxBodyBytes(32) + 1)).Problem?.Status);
    }

    [Theory]
    [InlineData("application/json", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData("application/problem+json", true)]
    [InlineData("text/plain", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Only_json_media_types_are_accepted(string? contentType, bool accepted) =>
        Assert.Equal(accepted, MessageInput.IsJson(contentType));
}

public class ChatSessionStateTests
{
    [Fact]
    public void State_round_trips_through_json_with_named_fields_and_keeps_fields_it_does_not_know()
    {
        var state = Turns.Enqueued("t1", "t2").Completed("t1");
        string json = JsonSerializer.Serialize(state);
        using (var doc = JsonDocument.Parse(json))
        {
            Assert.Equal(ChatSessionState.CurrentSchemaVersion, doc.RootElement.GetProperty("schemaVersion").GetInt32());
            Assert.Equal("completed", doc.RootElement.GetProperty("turns")[0].GetProperty("status").GetString());
        }

        string newer = json[..^1] + ",\"futureField\":{\"x\":1}}";
        var read = JsonSerializer.Deserialize<ChatSessionState>(newer)!;

        Assert.Equal(state.Turns.Single().Answer, read.Turns.Single().Answer);
        Assert.Equal("t2", read.Active?.Turn.TurnId);
        Assert.Contains("\"futureField\":{\"x\":1}", JsonSerializer.Serialize(read));
    }
}
