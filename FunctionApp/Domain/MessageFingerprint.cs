using System.Security.Cryptography;
using System.Text;

namespace FunctionsChat.Domain;

/// <summary>A short, stable fingerprint of a message, so an idempotent retry can be told from a reused key.</summary>
public static class MessageFingerprint
{
    public static string Of(string message) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(message)).AsSpan(0, 16));
}
