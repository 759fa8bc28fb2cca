using System.Globalization;

namespace FunctionsChat.Domain;

/// <summary>
/// Where the words of a turn are stored in the session's table, whole: every message (written by the API before it
/// signals) and every answer (written by the model activity). A key starts with <c>x</c> and the moment the API
/// accepted the turn, so the copies of a deleted life of the session (accepted up to its deletion) are one key range,
/// and a new life's are never in it; then what it is and the fingerprint of its text.
/// </summary>
public static class TextKeys
{
    public const string Prefix = "x";

    public static string Message(DateTimeOffset acceptedAt, string hash) => $"{Stamp(acceptedAt)}m{hash}";

    public static string Answer(DateTimeOffset acceptedAt, string hash) => $"{Stamp(acceptedAt)}a{hash}";

    /// <summary>The first key after every text of turns accepted up to <paramref name="through"/>.</summary>
    public static string After(DateTimeOffset through) => $"{Stamp(through)}~";

    static string Stamp(DateTimeOffset at) => Prefix + at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);
}
