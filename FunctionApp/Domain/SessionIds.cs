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
    public static string TurnInstanceId(string sessionKey, string turnId, string run)
    {
        string readable = $"chatturn:{sessionKey}:{turnId}:{run}";
        return readable.Length <= 256
            ? readable
            : $"chatturn:{Fingerprint.Of(sessionKey + "\n" + turnId + "\n" + run)}";
    }
}
