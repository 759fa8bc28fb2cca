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
    /// and the turn's sequence, so a turn id used again after a delete never meets the old instance): the turn's
    /// prefix (<see cref="TurnRunsPrefix"/>), then the run.
    /// </summary>
    public static string TurnInstanceId(string sessionKey, string turnId, string run) => TurnRunsPrefix(sessionKey, turnId) + run;

    /// <summary>
    /// What the instance id of every incarnation of one turn starts with, and no other turn's: a purge finds by it a run
    /// the session never learned of (a start sent by an operation whose state was then not saved, run again with
    /// another sequence). The turn id is readable where the longest run still fits the 256-character instance id
    /// limit, hashed where it would not; a hash starts with '#', which no id holds.
    /// </summary>
    public static string TurnRunsPrefix(string sessionKey, string turnId)
    {
        string prefix = TurnPrefix(sessionKey);
        return prefix.Length + turnId.Length + 1 + LongestRun <= 256 ? $"{prefix}{turnId}:" : $"{prefix}#{Fingerprint.Of(turnId)}:";
    }

    /// <summary>A run's place among a session's runs: its generation, then its sequence; (-1, -1) for what is not a run.</summary>
    public static (long Generation, long Sequence) RunOrder(string? run) =>
        run?.Split('.') is [var generation, var sequence] && long.TryParse(generation, out long g) && long.TryParse(sequence, out long s) ? (g, s) : (-1, -1);

    /// <summary>The run a turn instance id ends with.</summary>
    public static string RunOfInstance(string instanceId) => instanceId[(instanceId.LastIndexOf(':') + 1)..];

    /// <summary>The instance id of the orchestration that archives one batch of a session's turns.</summary>
    public static string ArchiveInstanceId(string sessionKey, string batchId)
    {
        string prefix = ArchivePrefix(sessionKey);
        return prefix.Length + batchId.Length <= 256 ? prefix + batchId : $"{prefix}#{Fingerprint.Of(batchId)}";
    }

    /// <summary>What every instance id of the session's turns starts with, and nothing else's.</summary>
    public static string TurnPrefix(string sessionKey) => Prefix("chatturn", sessionKey);

    /// <summary>What every instance id of the session's archive batches starts with.</summary>
    public static string ArchivePrefix(string sessionKey) => Prefix("chatarchive", sessionKey);

    // The kind and the session key (at most 11 + 1 + 161 + 1 characters) always lead, so a prefix finds every instance
    // of the session.
    static string Prefix(string kind, string sessionKey) => $"{kind}:{sessionKey}:";

    /// <summary>A run: two whole numbers and a dot.</summary>
    const int LongestRun = 20 + 1 + 20;
}
