using System.Text.Json;

namespace FunctionsChat.Domain;

/// <summary>Reads and checks the small JSON bodies of the branch routes: regenerate, edit, switch and fork.</summary>
public static class BranchInput
{
    public const int MaxBodyBytes = 4096;

    /// <summary>A regenerate's options, all optional (an empty body is none): <c>later</c> and <c>multitask_strategy</c>.</summary>
    public static (bool Later, MultitaskStrategy? Strategy, ApiProblem? Problem) Options(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return (false, null, null);
        }

        var (root, problem) = Object(body);
        if (root is not { } found)
        {
            return (false, null, problem);
        }

        using var document = found;
        var (later, badLater) = Later(document.RootElement);
        if (badLater is not null)
        {
            return (false, null, badLater);
        }

        var (strategy, badStrategy) = Strategy(document.RootElement);
        return badStrategy is not null ? (false, null, badStrategy) : (later, strategy, null);
    }

    /// <summary>Whether an edit's body (a message's, already checked) says its later turns may leave the conversation (<c>later</c>, default false).</summary>
    public static (bool Later, ApiProblem? Problem) Later(ReadOnlySpan<byte> body)
    {
        var (root, problem) = Object(body, int.MaxValue);
        if (root is not { } found)
        {
            return (false, problem);
        }

        using var document = found;
        return Later(document.RootElement);
    }

    /// <summary>The ids a switch (<c>turnId</c>) or a fork (<c>sessionId</c> and <c>turnId</c>) names, each checked.</summary>
    public static (string? SessionId, string? TurnId, ApiProblem? Problem) Names(ReadOnlySpan<byte> body, bool withSession)
    {
        var (root, problem) = Object(body);
        if (root is not { } found)
        {
            return (null, null, problem);
        }

        using var document = found;
        string example = withSession ? "{\"sessionId\": \"copy-1\", \"turnId\": \"t3\"}" : "{\"turnId\": \"t3\"}";
        string? turnId = Text(document.RootElement, "turnId");
        if (turnId is null)
        {
            return (null, null, ApiProblem.MissingField("turnId", example));
        }

        if (!SessionIds.IsValid(turnId))
        {
            return (null, null, ApiProblem.InvalidTurnId(turnId));
        }

        if (!withSession)
        {
            return (null, turnId, null);
        }

        string? sessionId = Text(document.RootElement, "sessionId");
        return sessionId is null ? (null, null, ApiProblem.MissingField("sessionId", example))
            : SessionIds.IsValid(sessionId) ? (sessionId, turnId, null)
            : (null, null, ApiProblem.InvalidSessionId(sessionId));
    }

    /// <summary>What a switch names: a turn by id (<c>turnId</c>) or a variant by its sequence (<c>sequence</c>, from the history's variants).</summary>
    public static (string? TurnId, long? Sequence, ApiProblem? Problem) Target(ReadOnlySpan<byte> body)
    {
        var (root, problem) = Object(body);
        if (root is not { } found)
        {
            return (null, null, problem);
        }

        using var document = found;
        if (document.RootElement.TryGetProperty("sequence", out var sequence) && sequence.ValueKind != JsonValueKind.Null)
        {
            return sequence.ValueKind == JsonValueKind.Number && sequence.TryGetInt64(out long value) && value >= 1
                ? (null, value, null)
                : (null, null, ApiProblem.InvalidJson("'sequence' is a turn's sequence, a whole number from 1."));
        }

        var (_, turnId, missing) = Names(body, withSession: false);
        return (turnId, null, missing);
    }

    static (JsonDocument? Document, ApiProblem? Problem) Object(ReadOnlySpan<byte> body, int maxBytes = MaxBodyBytes)
    {
        if (body.Length > maxBytes)
        {
            return (null, ApiProblem.InvalidJson($"The body is larger than {maxBytes} bytes."));
        }

        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            var document = JsonDocument.ParseValue(ref reader);
            if (reader.Read() || document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                return (null, ApiProblem.InvalidJson("Send exactly one JSON object."));
            }

            return (document, null);
        }
        catch (JsonException exception)
        {
            return (null, ApiProblem.InvalidJson(exception.Message));
        }
    }

    static (bool Later, ApiProblem? Problem) Later(JsonElement root) =>
        !root.TryGetProperty("later", out var later) || later.ValueKind == JsonValueKind.Null ? (false, null)
        : later.ValueKind is JsonValueKind.True or JsonValueKind.False ? (later.GetBoolean(), null)
        : (false, ApiProblem.InvalidJson("'later' is true or false."));

    static (MultitaskStrategy? Strategy, ApiProblem? Problem) Strategy(JsonElement root)
    {
        if (!root.TryGetProperty(MessageInput.StrategyField, out var named) || named.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        string? name = named.ValueKind == JsonValueKind.String ? named.GetString() : null;
        return MultitaskStrategies.Parse(name) is { } strategy ? (strategy, null) : (null, ApiProblem.InvalidMultitaskStrategy(name));
    }

    static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
