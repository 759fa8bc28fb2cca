namespace FunctionsChat.Domain;

/// <summary>
/// A session's key is its owner and its id together: a stable, non-reversible fingerprint of the caller (32 hex
/// characters of SHA-256), a ':' that no session id contains, then the session id. One caller's "session123" and
/// another's are different entities, so no request can reach another caller's state. The key stays within entity-key
/// and table-key rules (no '/', '\', '#', '?', '@' at its start) and at most 32 + 1 + 128 characters.
/// </summary>
public static class SessionKeys
{
    public const int OwnerLength = Fingerprint.Length;

    public static string Owner(string callerId) => Fingerprint.Of(callerId);

    public static string For(string callerId, string sessionId) => $"{Owner(callerId)}:{sessionId}";

    /// <summary>The session id within a key (what a client calls the session).</summary>
    public static string SessionIdOf(string sessionKey) => sessionKey[(sessionKey.IndexOf(':', StringComparison.Ordinal) + 1)..];

    /// <summary>The owner part of a session key: who the session belongs to, as a fingerprint.</summary>
    public static string OwnerOf(string sessionKey) => sessionKey[..Math.Max(0, sessionKey.IndexOf(':', StringComparison.Ordinal))];

    /// <summary>The prefix every key of the caller's sessions starts with.</summary>
    public static string Prefix(string callerId) => Owner(callerId) + ":";
}
