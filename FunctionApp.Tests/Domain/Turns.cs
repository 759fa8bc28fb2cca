using FunctionsChat.Domain;

namespace FunctionsChat.Tests.Domain;

/// <summary>Builders for the domain tests: one clock, one session, readable turns.</summary>
public static class Turns
{
    public static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    // Idle deletion is off by default; these tests turn it on to prove it.
    public static readonly SessionLimits Limits = new(MaxPendingTurns: 3, TurnTimeout: TimeSpan.FromMinutes(5)) { IdleRetention = TimeSpan.FromDays(30) };

    public static TurnRequest Request(string turnId, string message = "hello", string sessionId = "session123") =>
        new(sessionId, turnId, message, T0);

    public static TurnCompletion Completion(string turnId, string answer = "hi there") =>
        new(turnId, answer, "gpt-test", new TokenUsage(10, 5), T0.AddSeconds(2));

    public static ChatSessionState Apply(this ChatSessionState state, Func<ChatSessionState, Transition> step) => step(state).State;

    public static ChatSessionState Enqueued(params string[] turnIds) =>
        turnIds.Aggregate(ChatSessionState.Empty, (s, id) => SessionTransitions.Enqueue(s, Request(id, "message " + id), T0, Limits).State);

    public static ChatSessionState Completed(this ChatSessionState state, string turnId, string answer = "answer") =>
        SessionTransitions.Complete(state, Completion(turnId, answer), T0.AddSeconds(3), Limits).State;
}
