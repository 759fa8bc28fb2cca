using System.Buffers;

namespace FunctionsChat.Domain;

/// <summary>The shape shared by session ids and turn ids (idempotency keys): 1 to 128 of [A-Za-z0-9._~-].</summary>
public static class SessionIds
{
    public const int MaxLength = 128;

    static readonly SearchValues<char> Allowed =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-");

    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= MaxLength } && !id.AsSpan().ContainsAnyExcept(Allowed);

    /// <summary>
    /// The instance id of one incarnation of a turn's orchestration (<paramref name="run"/> is the session's generation
    /// and the turn's sequence, so a turn id used again after a delete never meets the old instance): readable where
    /// it fits the 256-character instance id limit, a hash of all parts where it would not.
    /// </summary>
    public static string TurnInstanceId(string sessionKey, string turnId, string run) =>
        InstanceId("chatturn", sessionKey, turnId, run);

    /// <summary>The instance id of the orchestration that archives one batch of a session's turns.</summary>
    public static string ArchiveInstanceId(string sessionKey, string batchId) =>
        InstanceId("chatarchive", sessionKey, batchId);

    static string InstanceId(string kind, string sessionKey, params string[] parts)
    {
        string readable = $"{kind}:{sessionKey}:{string.Join(':', parts)}";
        return readable.Length <= 256
            ? readable
            : $"{kind}:{Fingerprint.Of(sessionKey + "\n" + string.Join('\n', parts))}";
    }
}
