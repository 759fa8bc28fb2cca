using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

/// <summary>
/// What the session does with a message that arrives while a turn is running or queued (LangGraph's
/// <c>multitask_strategy</c>, by the same names).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<MultitaskStrategy>))]
public enum MultitaskStrategy
{
    /// <summary>Queue it behind the turns before it.</summary>
    [JsonStringEnumMemberName("enqueue")] Enqueue,

    /// <summary>Refuse it (409); nothing is stored.</summary>
    [JsonStringEnumMemberName("reject")] Reject,

    /// <summary>Stop the running turn (its partial answer stays in the conversation), cancel the queued ones, run it next.</summary>
    [JsonStringEnumMemberName("interrupt")] Interrupt,

    /// <summary>As <see cref="Interrupt"/>, but the stopped turn leaves the conversation the model sees.</summary>
    [JsonStringEnumMemberName("rollback")] Rollback,
}

public static class MultitaskStrategies
{
    public static readonly string[] Names = ["enqueue", "reject", "interrupt", "rollback"];

    /// <summary>The strategy of that name (exact, lower case), or null.</summary>
    public static MultitaskStrategy? Parse(string? name) => Array.IndexOf(Names, name) is int i and >= 0 ? (MultitaskStrategy)i : null;

    public static string Name(this MultitaskStrategy strategy) => Names[(int)strategy];
}
