using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

/// <summary>What a transition did, for logs and for the caller that must answer a client.</summary>
public enum TransitionNote
{
    Applied,
    Duplicate,
    Conflict,
    QueueFull,
    Stale,
    NotFound,
    AlreadyFinished,
    Deleted,
}

/// <summary>A message of the conversation as the model sees it.</summary>
public sealed record ConversationMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content)
{
    public const string User = "user";
    public const string Assistant = "assistant";
}

/// <summary>A turn to start now: its message and the conversation exactly as it stood when it started.</summary>
public sealed record TurnStart(
    string SessionId,
    string TurnId,
    long Sequence,
    string Message,
    IReadOnlyList<ConversationMessage> History,
    DateTimeOffset ExpiresAt);

/// <summary>The new state and the one thing, if any, that must happen because of it.</summary>
public sealed record Transition(ChatSessionState State, TransitionNote Note, TurnStart? Start = null);
