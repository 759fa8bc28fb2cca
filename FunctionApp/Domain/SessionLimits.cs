namespace FunctionsChat.Domain;

/// <summary>
/// Bounds the session state: how many turns may wait, how long a started turn may run, how much of the transcript
/// stays in the entity (older turns move to the archive), and how long an idle session is kept.
/// </summary>
public sealed record SessionLimits(int MaxPendingTurns, TimeSpan TurnTimeout)
{
    public static SessionLimits Default { get; } = new(MaxPendingTurns: 64, TurnTimeout: TimeSpan.FromMinutes(15));

    /// <summary>Finished turns kept in the entity; past it the oldest are archived, down to half.</summary>
    public int MaxWorkingTurns { get; init; } = 24;

    /// <summary>Text bytes of finished turns kept in the entity; past it the oldest are archived, down to half.</summary>
    public int MaxWorkingBytes { get; init; } = 24 * 1024;

    /// <summary>An archive write not confirmed within this time is started again (writes are idempotent).</summary>
    public TimeSpan ArchiveTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A session untouched this long deletes itself and its archive; zero (the default) keeps sessions forever.</summary>
    public TimeSpan IdleRetention { get; init; } = TimeSpan.Zero;

    /// <summary>How long a deleted session refuses requests accepted before its deletion (late or redelivered signals).</summary>
    public TimeSpan TombstoneTime { get; init; } = TimeSpan.FromDays(1);

    /// <summary>
    /// How long a turn asked to stop has to report its stopped model call (the activity notices within
    /// <c>TurnWatch.StopCheck</c>); past it the session finishes the turn without it and starts the next.
    /// </summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Refused requests the session remembers one by one (ids only), so their callers learn why; past it the oldest
    /// are remembered together by the newest moment among them (<see cref="ChatSessionState.RefusedThrough"/>).
    /// </summary>
    public int RefusedWindow { get; init; } = 16;

    /// <summary>
    /// Branch lines a session may hold (<see cref="Branches"/>): each costs a tip and a variant in the state, so the
    /// state stays bounded however often a conversation is regenerated or edited.
    /// </summary>
    public int MaxBranches { get; init; } = 128;

    /// <summary>
    /// How late a copy of a client's signal can still arrive: the queue delivers a message again after its visibility
    /// timeout (5 minutes by default), and again while it is not deleted. A refusal is remembered this long after the
    /// request was accepted, so no copy of it is ever taken.
    /// </summary>
    public TimeSpan RedeliveryHorizon { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Archived turns whose ids the session still recognises, for retried requests.</summary>
    public int ArchivedIdWindow { get; init; } = 64;

    /// <summary>When to purge again an orchestration that was still running at its first purge: a turn timeout and a minute later.</summary>
    public TimeSpan PurgeLinger => TurnTimeout + TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether the caller's running turns are limited: a turn then starts only while the session holds one of the
    /// caller's slots (<see cref="CallerSlotRules"/>), and waits, queued, until it does.
    /// </summary>
    public bool CallerSlots { get; init; }

    /// <summary>Whether the working set is bounded at all (benchmarks compare against an unbounded transcript).</summary>
    public bool Archives { get; init; } = true;
}
