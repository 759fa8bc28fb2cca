using System.Text;
using System.Text.Json;

namespace FunctionsChat.Tests.Auth;

/// <summary>Writes an X-MS-CLIENT-PRINCIPAL header value as the platform's built-in authentication does.</summary>
public static class PrincipalHeaders
{
    public static string Encode(string authType, params (string Type, string Value)[] claims) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            auth_typ = authType,
            claims = claims.Select(c => new { typ = c.Type, val = c.Value }),
            name_typ = "name",
            role_typ = "roles",
        })));
}
