using System.Text.Json.Serialization;

namespace FunctionsChat.Domain;

/// <summary>A count over one stretch of time.</summary>
public sealed record UsageBucket([property: JsonPropertyName("s")] DateTimeOffset Start, [property: JsonPropertyName("n")] long Count);

/// <summary>
/// One caller's recent use, across all their sessions: messages accepted, in buckets of
/// <see cref="CallerQuotaRules.MessageBucket"/> over the last minute, and model tokens (input plus output, as the model
/// reported them), in twelve buckets over the token period. Older buckets are dropped as they pass, so the state is
/// bounded, and an idle caller's state is empty and goes away.
/// </summary>
public sealed record CallerUsage
{
    [JsonPropertyName("messages")]
    public IReadOnlyList<UsageBucket> Messages { get; init; } = [];

    [JsonPropertyName("tokens")]
    public IReadOnlyList<UsageBucket> Tokens { get; init; } = [];

    /// <summary>When the one pending prune signal is due (every bucket held then has passed); null while none is pending.</summary>
    [JsonPropertyName("pruneAt")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? PruneAt { get; init; }

    /// <summary>The caller's sessions that hold a running-turn slot, by the ask each was granted for.</summary>
    [JsonPropertyName("running")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public IReadOnlyList<SlotHolder>? Running { get; init; }

    /// <summary>The caller's sessions waiting for a slot, oldest ask first.</summary>
    [JsonPropertyName("waiting")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public IReadOnlyList<SlotHolder>? Waiting { get; init; }

    /// <summary>Model calls charged an estimate whose reported usage has not come yet, oldest first.</summary>
    [JsonPropertyName("estimates")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public IReadOnlyList<TokenEstimate>? Estimates { get; init; }

    [JsonIgnore]
    public bool IsIdle => Messages.Count == 0 && Tokens.Count == 0 && (Running?.Count ?? 0) == 0 && (Waiting?.Count ?? 0) == 0 && (Estimates?.Count ?? 0) == 0;
}

/// <summary>The per-caller limits; 0 turns a limit off.</summary>
public sealed record QuotaLimits(int MessagesPerMinute, long TokensPerPeriod, TimeSpan TokenPeriod)
{
    /// <summary>Turns that may run at once across the caller's sessions; 0: no limit.</summary>
    public int RunningTurns { get; init; }

    public bool Any => MessagesPerMinute > 0 || TokensPerPeriod > 0 || RunningTurns > 0;
}

/// <summary>
/// A model call's tokens charged to its caller: an estimate before the call (the tokenizer's count of its prompt), then
/// what the model reported, which replaces the estimate of the same <see cref="Call"/>.
/// </summary>
public sealed record TokenCharge([property: JsonPropertyName("tokens")] long Tokens, [property: JsonPropertyName("at")] DateTimeOffset At)
{
    /// <summary>The model call (one execution of the model activity) the charge is for; null for a charge of its own.</summary>
    [JsonPropertyName("call")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Call { get; init; }

    /// <summary>An estimate, to be replaced by the call's reported usage.</summary>
    [JsonPropertyName("estimate")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Estimate { get; init; }
}

/// <summary>A model call's estimate the caller's quota holds until the call's reported usage replaces it.</summary>
public sealed record TokenEstimate([property: JsonPropertyName("c")] string Call, [property: JsonPropertyName("n")] long Tokens, [property: JsonPropertyName("s")] DateTimeOffset At);

/// <summary>A caller past one of their limits: which, and when to try again.</summary>
public sealed record QuotaRefusal(string Limit, TimeSpan RetryAfter);

/// <summary>The rules of fair use per caller. Pure: the API judges a request by them on the usage it read.</summary>
public static class CallerQuotaRules
{
    public const string MessageRate = "messages-per-minute";
    public const string TokenBudget = "tokens-per-period";
    public const string RunningTurns = "running-turns";

    public static readonly TimeSpan MessageWindow = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MessageBucket = TimeSpan.FromSeconds(5);
    const int TokenBuckets = 12;

    public static TimeSpan TokenBucket(QuotaLimits limits) => limits.TokenPeriod / TokenBuckets;

    /// <summary>The usage with what has passed out of each window dropped.</summary>
    public static CallerUsage Current(CallerUsage usage, DateTimeOffset now, QuotaLimits limits) => usage with
    {
        Messages = [.. usage.Messages.Where(b => b.Start + MessageBucket > now - MessageWindow)],
        Tokens = [.. usage.Tokens.Where(b => b.Start + TokenBucket(limits) > now - limits.TokenPeriod)],
        Estimates = usage.Estimates?.Where(e => e.At > now - limits.TokenPeriod).ToList() is { Count: > 0 } open ? open : null,
    };

    public static CallerUsage Accepted(CallerUsage usage, DateTimeOffset at, QuotaLimits limits)
    {
        var current = Current(usage, at, limits);
        return current with { Messages = Add(current.Messages, at, MessageBucket, 1) };
    }

    /// <summary>
    /// Tokens used. An estimate is held by its call (a copy of it counts once); the call's reported usage replaces it,
    /// in the estimate's bucket. A report whose estimate is not held (it came first, or the estimate passed out of the
    /// period or the bounded list) counts as a use of its own: every disorder counts more, never less.
    /// </summary>
    public static CallerUsage Used(CallerUsage usage, TokenCharge charge, QuotaLimits limits)
    {
        var current = Current(usage, charge.At, limits);
        var estimates = current.Estimates ?? [];
        var held = charge.Call is { } call ? estimates.FirstOrDefault(e => e.Call == call) : null;
        if (charge.Estimate)
        {
            return held is not null || charge.Call is null ? current : current with
            {
                Tokens = Add(current.Tokens, charge.At, TokenBucket(limits), charge.Tokens),
                Estimates = [.. estimates.TakeLast(MaxEstimates - 1), new TokenEstimate(charge.Call, charge.Tokens, charge.At)],
            };
        }

        if (held is not null)
        {
            var start = BucketStart(held.At, TokenBucket(limits));
            var rest = estimates.Where(e => e != held).ToList();
            return current with
            {
                Tokens = [.. current.Tokens.Select(b => b.Start == start ? b with { Count = Math.Max(0, b.Count + charge.Tokens - held.Tokens) } : b).Where(b => b.Count > 0)],
                Estimates = rest.Count == 0 ? null : rest,
            };
        }

        return charge.Tokens <= 0 ? current : current with { Tokens = Add(current.Tokens, charge.At, TokenBucket(limits), charge.Tokens) };
    }

    /// <summary>Estimates a caller's quota holds at most (model calls running at once); past it the oldest stays counted as it was.</summary>
    public const int MaxEstimates = 32;

    public static long MessagesInWindow(CallerUsage? usage, DateTimeOffset now, QuotaLimits limits) =>
        usage is null ? 0 : Current(usage, now, limits).Messages.Sum(b => b.Count);

    public static long TokensInPeriod(CallerUsage? usage, DateTimeOffset now, QuotaLimits limits) =>
        usage is null ? 0 : Current(usage, now, limits).Tokens.Sum(b => b.Count);

    /// <summary>
    /// Whether one more message may be accepted now: under the message rate, with tokens left in the period. The
    /// answer says when the oldest use that holds the caller back leaves its window.
    /// </summary>
    public static QuotaRefusal? Check(CallerUsage? usage, DateTimeOffset now, QuotaLimits limits)
    {
        if (usage is null)
        {
            return null;
        }

        var current = Current(usage, now, limits);
        if (limits.MessagesPerMinute > 0 && current.Messages.Sum(b => b.Count) >= limits.MessagesPerMinute)
        {
            return new(MessageRate, Until(current.Messages[0].Start + MessageBucket + MessageWindow, now));
        }

        if (limits.TokensPerPeriod > 0 && current.Tokens.Sum(b => b.Count) >= limits.TokensPerPeriod)
        {
            return new(TokenBudget, Until(current.Tokens[0].Start + TokenBucket(limits) + limits.TokenPeriod, now));
        }

        return null;
    }

    /// <summary>Whether one more message to the session may be accepted now, by every limit; null when it may.</summary>
    public static QuotaRefusal? Admit(CallerUsage? usage, string sessionId, DateTimeOffset now, QuotaLimits limits) =>
        Check(usage, now, limits) ?? CheckWaiting(usage, sessionId, limits);

    /// <summary>
    /// Whether a message to the session may be accepted while the caller's sessions wait for running-turn slots: a
    /// session that already holds or waits for one always may; another may only while the waiting line has room.
    /// </summary>
    public static QuotaRefusal? CheckWaiting(CallerUsage? usage, string sessionId, QuotaLimits limits) =>
        limits.RunningTurns > 0 && usage?.Waiting is { Count: >= CallerSlotRules.MaxWaiting } waiting
            && !waiting.Any(h => h.Session == sessionId) && !(usage.Running ?? []).Any(h => h.Session == sessionId)
            ? new(RunningTurns, CallerSlotRules.RecheckAfter)
            : null;

    /// <summary>
    /// When every bucket the usage holds has left its window: the moment to prune it, so an idle caller's state goes
    /// away. Null when it holds nothing.
    /// </summary>
    public static DateTimeOffset? AllPassedAt(CallerUsage usage, QuotaLimits limits)
    {
        var ends = usage.Messages.Select(b => b.Start + MessageBucket + MessageWindow)
            .Concat(usage.Tokens.Select(b => b.Start + TokenBucket(limits) + limits.TokenPeriod)).ToList();
        return ends.Count == 0 ? null : ends.Max();
    }

    static TimeSpan Until(DateTimeOffset at, DateTimeOffset now) => at > now ? at - now : TimeSpan.FromSeconds(1);

    static DateTimeOffset BucketStart(DateTimeOffset at, TimeSpan width) => new(at.UtcTicks - (at.UtcTicks % width.Ticks), TimeSpan.Zero);

    static IReadOnlyList<UsageBucket> Add(IReadOnlyList<UsageBucket> buckets, DateTimeOffset at, TimeSpan width, long count)
    {
        // Signals arrive at least once and in any order: each use goes to the bucket of its own moment.
        var start = BucketStart(at, width);
        return buckets.Any(b => b.Start == start)
            ? [.. buckets.Select(b => b.Start == start ? b with { Count = b.Count + count } : b)]
            : [.. buckets.Where(b => b.Start < start), new UsageBucket(start, count), .. buckets.Where(b => b.Start > start)];
    }
}
