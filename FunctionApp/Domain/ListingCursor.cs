using System.Buffers.Text;
using System.Text;

namespace FunctionsChat.Domain;

/// <summary>
/// The continuation token the API hands out: the backend's own token, sealed with the caller's listing scope, so a
/// token that was cut short, altered or made up is refused as a bad query before the backend sees it, and a real
/// backend failure is never mistaken for one. It is a checksum, not a secret: the scope still comes from the caller.
/// </summary>
public static class ListingCursor
{
    public static string Seal(string backendToken, string scope) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(backendToken)) + "." + Fingerprint.Of(scope + "\n" + backendToken);

    public static bool TryOpen(string token, string scope, out string backendToken)
    {
        backendToken = "";
        int dot = token.LastIndexOf('.');
        if (dot <= 0 || !Base64Url.IsValid(token.AsSpan(0, dot)))
        {
            return false;
        }

        string inner;
        try
        {
            inner = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(token.AsSpan(0, dot)));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        if (!token.AsSpan(dot + 1).SequenceEqual(Fingerprint.Of(scope + "\n" + inner)))
        {
            return false;
        }

        backendToken = inner;
        return true;
    }
}
