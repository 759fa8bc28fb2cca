using System.Text;
using System.Text.Json;

namespace FunctionsChat.Domain;

/// <summary>
/// Reads and checks the body of a message request: exactly one JSON object with a non-empty string 'message' of valid
/// Unicode, within the size bound, and optionally a 'multitask_strategy' (LangGraph's name for it).
/// </summary>
public static class MessageInput
{
    /// <summary>The most bytes a body may have for a message of <paramref name="maxMessageBytes"/>: room for JSON escaping.</summary>
    public static int MaxBodyBytes(int maxMessageBytes) => maxMessageBytes * 6 + 1024;

    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return false;
        }

        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase)
                && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    public const string StrategyField = "multitask_strategy";

    /// <returns>The message and the strategy it names (null: none named), or the problem.</returns>
    public static (string? Message, MultitaskStrategy? Strategy, ApiProblem? Problem) Parse(ReadOnlySpan<byte> body, int maxMessageBytes)
    {
        if (body.Length > MaxBodyBytes(maxMessageBytes))
        {
            return (null, null, ApiProblem.MessageTooLarge(maxMessageBytes));
        }

        // Some clients (PowerShell's, Windows editors) start a UTF-8 body with its byte order mark.
        if (body.StartsWith("\uFEFF"u8))
        {
            body = body[3..];
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                return (null, null, ApiProblem.InvalidJson("The body holds more than one JSON value; send exactly one object."));
            }

            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("message", out var property)
                || property.ValueKind != JsonValueKind.String)
            {
                return (null, null, ApiProblem.MissingMessage());
            }

            string message = property.GetString()!;
            if (string.IsNullOrWhiteSpace(message))
            {
                return (null, null, ApiProblem.EmptyMessage());
            }

            if (Encoding.UTF8.GetByteCount(message) > maxMessageBytes)
            {
                return (null, null, ApiProblem.MessageTooLarge(maxMessageBytes));
            }

            if (!document.RootElement.TryGetProperty(StrategyField, out var named) || named.ValueKind == JsonValueKind.Null)
            {
                return (message, null, null);
            }

            string? name = named.ValueKind == JsonValueKind.String ? named.GetString() : null;
            return MultitaskStrategies.Parse(name) is { } strategy
                ? (message, strategy, null)
                : (null, null, ApiProblem.InvalidMultitaskStrategy(name));
        }
        catch (JsonException exception)
        {
            return (null, null, ApiProblem.InvalidJson(exception.Message));
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape (\ud800) or bytes that are not UTF-8 inside the string: no text to store.
            return (null, null, ApiProblem.InvalidJson("The message is not valid Unicode text: it holds a lone surrogate or bytes that are not UTF-8."));
        }
    }
}
