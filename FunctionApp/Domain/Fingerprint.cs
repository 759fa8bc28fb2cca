using System.Security.Cryptography;
using System.Text;

namespace FunctionsChat.Domain;

/// <summary>
/// A short, stable, non-reversible fingerprint of a text: the first 128 bits of its SHA-256, as 32 lower-case hex
/// characters. It tells an idempotent retry from a reused key, names a caller inside session keys, and shortens
/// instance ids that would be too long.
/// </summary>
public static class Fingerprint
{
    public const int Length = 32;

    public static string Of(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, Length / 2));
}
