using System.Text.Json.Serialization;
using FunctionsChat.Domain;

namespace FunctionsChat.Http;

public sealed record AnswerView(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("answer")] string Answer,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("usage")] TokenUsage? Usage)
{
    /// <summary>The model stopped at its output limit: the answer is cut short.</summary>
    [JsonPropertyName("truncated")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Truncated { get; init; }

    /// <summary>What went wrong beside the answer (<c>summary.failed: ...</c>).</summary>
    [JsonPropertyName("warning")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Warning { get; init; }
}

public sealed record AcceptedView(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("statusUrl")] string StatusUrl);

public sealed record MessageView(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content,
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("status")] TurnStatus Status)
{
    /// <summary>Whether the model is shown this message in later turns (completed and interrupted turns; as budget allows).</summary>
    [JsonPropertyName("shownToModel")]
    public bool ShownToModel { get; init; }

    /// <summary>An answer the model cut at its output limit.</summary>
    [JsonPropertyName("truncated")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Truncated { get; init; }

    /// <summary>On an answer: what went wrong beside it (<c>summary.failed: ...</c>).</summary>
    [JsonPropertyName("warning")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Warning { get; init; }

    /// <summary>When the turn is one of several variants (regenerated or edited): which one, of how many.</summary>
    [JsonPropertyName("variants")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VariantsView? Variants { get; init; }
}

/// <summary>
/// The variants of one place in the conversation, oldest first: <see cref="Index"/> (from 1) is the one shown;
/// <c>PUT /Chat/{sessionId}/branch</c> with another's sequence follows that one.
/// </summary>
public sealed record VariantsView(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("sequences")] IReadOnlyList<long> Sequences)
{
    public static VariantsView? Of(ChatSessionState state, TranscriptTurn turn)
    {
        if (Branches.ForkAfter(state, Branches.ParentOf(turn)) is not { } fork)
        {
            return null;
        }

        var sequences = fork.Children.Select(c => c.Sequence).ToArray();
        int at = Array.IndexOf(sequences, turn.Sequence);
        return at < 0 ? null : new(at + 1, sequences.Length, sequences);
    }
}

/// <summary>The session's summary of its turns 1..through, as the model is shown it in place of those turns.</summary>
public sealed record SummaryView(
    [property: JsonPropertyName("through")] long Through,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("writtenAt")] DateTimeOffset WrittenAt);

public sealed record PendingView(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("position")] int Position,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("acceptedAt")] DateTimeOffset AcceptedAt);

public sealed record ActiveView(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("expiresAt")] DateTimeOffset ExpiresAt)
{
    /// <summary>Set while the turn is being stopped: the status it will finish with.</summary>
    [JsonPropertyName("stopping")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TurnStatus? Stopping { get; init; }
}

public sealed record HistoryView(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("messages")] IReadOnlyList<MessageView> Messages,
    [property: JsonPropertyName("pending")] IReadOnlyList<PendingView> Pending,
    [property: JsonPropertyName("active")] ActiveView? Active,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("lastActivityAt")] DateTimeOffset LastActivityAt)
{
    /// <summary>The sequence to pass as <c>before</c> for the page before this one; null at the first turn.</summary>
    [JsonPropertyName("before")]
    public long? Before { get; init; }

    /// <summary>The URL of the page before this one, if any.</summary>
    [JsonPropertyName("previousPage")]
    public string? PreviousPage { get; init; }

    /// <summary>On the newest page: the model's summary of the earliest turns, when the conversation outgrew its context.</summary>
    [JsonPropertyName("summary")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SummaryView? Summary { get; init; }

    public static HistoryView From(string sessionId, ChatSessionState state, IReadOnlyList<TranscriptTurn> page, long? before)
    {
        var messages = new List<MessageView>(page.Count * 2);
        foreach (var turn in page)
        {
            bool shown = SessionQueries.InConversation(turn);
            var variants = VariantsView.Of(state, turn);
            messages.Add(new(ConversationMessage.User, turn.Message, turn.TurnId, turn.Sequence, turn.AcceptedAt, turn.Status) { ShownToModel = shown, Variants = variants });
            if (turn.Answer is { } answer)
            {
                messages.Add(new(ConversationMessage.Assistant, answer, turn.TurnId, turn.Sequence, turn.FinishedAt, turn.Status) { ShownToModel = shown, Truncated = turn.Truncated, Warning = turn.Warning, Variants = variants });
            }
        }

        var pending = state.Pending.Select((t, i) => new PendingView(t.TurnId, t.Sequence, i + 1, t.Message, t.AcceptedAt)).ToArray();
        var active = state.Active is { } a ? new ActiveView(a.Turn.TurnId, a.Turn.Sequence, a.Turn.Message, a.StartedAt, a.ExpiresAt) { Stopping = a.Stop } : null;
        return new(sessionId, messages, pending, active, state.CreatedAt, state.LastActivityAt)
        {
            Before = before,
            PreviousPage = before is { } b ? $"/Chat/{Uri.EscapeDataString(sessionId)}/getHistory?before={b}&limit={HistoryPaging.DefaultLimit}" : null,
        };
    }
}

/// <summary>How a stopped turn ends: what its model had said (its partial answer), and whether later turns see it.</summary>
public sealed record StoppedView(
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("answer")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Answer,
    [property: JsonPropertyName("shownToModel")] bool ShownToModel);

public sealed record TurnErrorView(
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("message")] string? Message);

public sealed record TurnStatusView(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("turnId")] string TurnId,
    [property: JsonPropertyName("sequence")] long Sequence,
    [property: JsonPropertyName("status")] TurnStatus Status)
{
    [JsonPropertyName("position")]
    public int? Position { get; init; }

    [JsonPropertyName("answer")]
    public string? Answer { get; init; }

    [JsonPropertyName("model")]
    public string? Model { get; init; }

    [JsonPropertyName("usage")]
    public TokenUsage? Usage { get; init; }

    [JsonPropertyName("error")]
    public TurnErrorView? Error { get; init; }

    [JsonPropertyName("truncated")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Truncated { get; init; }

    [JsonPropertyName("warning")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Warning { get; init; }

    public static TurnStatusView From(string sessionId, TurnView turn) => new(sessionId, turn.TurnId, turn.Sequence, turn.Status)
    {
        Position = turn.Position,
        Answer = turn.Finished?.Answer,
        Model = turn.Finished?.Model,
        Usage = turn.Finished?.Usage,
        Error = turn.Finished is { Status: TurnStatus.Failed } f ? new(f.ErrorCode, f.ErrorMessage) : null,
        Truncated = turn.Finished?.Truncated == true,
        Warning = turn.Finished?.Warning,
    };
}

public sealed record SessionSummaryView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("messageCount")] int MessageCount,
    [property: JsonPropertyName("lastActivityAt")] DateTimeOffset LastActivityAt);

public sealed record SessionPageView(
    [property: JsonPropertyName("sessions")] IReadOnlyList<SessionSummaryView> Sessions,
    [property: JsonPropertyName("continuationToken")] string? ContinuationToken);

/// <summary>The branch the conversation follows: its line and its newest turn (null while the switch is on its way).</summary>
public sealed record BranchView(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("branch")] long Branch,
    [property: JsonPropertyName("head")] long? Head);

public sealed record ForkOrigin(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("turnId")] string TurnId);

/// <summary>A forked session: where it came from, how many turns it copied, and its history.</summary>
public sealed record ForkView(
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("forkedFrom")] ForkOrigin ForkedFrom,
    [property: JsonPropertyName("turns")] long Turns,
    [property: JsonPropertyName("history")] string History);
