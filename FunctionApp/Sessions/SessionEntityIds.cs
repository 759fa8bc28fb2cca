using Microsoft.DurableTask.Entities;

namespace FunctionsChat.Sessions;

/// <summary>The one place a session's entity id is made.</summary>
public static class SessionEntityIds
{
    public static EntityInstanceId For(string sessionKey) => new(nameof(ChatSession), sessionKey);

    /// <summary>The instance-id prefix every session entity shares (entity names are stored lower-case).</summary>
    public static string QueryPrefix { get; } = $"@{nameof(ChatSession).ToLowerInvariant()}@";
}
