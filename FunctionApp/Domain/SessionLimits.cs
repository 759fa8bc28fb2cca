namespace FunctionsChat.Domain;

/// <summary>Bounds the session state: how many turns may wait, and how long a started turn may run before it expires.</summary>
public sealed record SessionLimits(int MaxPendingTurns, TimeSpan TurnTimeout)
{
    public static SessionLimits Default { get; } = new(MaxPendingTurns: 64, TurnTimeout: TimeSpan.FromMinutes(5));
}
