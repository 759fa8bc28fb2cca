using System.Text.Json;

namespace FunctionsChat.Domain;

/// <summary>
/// Reads the caller from the platform's <c>X-MS-CLIENT-PRINCIPAL</c> header (App Service / Functions built-in
/// authentication): base64 of a JSON object whose <c>claims</c> are <c>{typ, val}</c> pairs. The caller is the
/// tenant and object id (Entra), or else the name identifier, qualified by the identity provider.
/// </summary>
public static class ClientPrincipal
{
    static readonly string[] ObjectId = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];
    static readonly string[] TenantId = ["http://schemas.microsoft.com/identity/claims/tenantid", "tid"];
    static readonly string[] NameId = ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier", "sub"];

    public static (string? CallerId, ApiProblem? Problem) Read(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return (null, ApiProblem.Unauthorized("The request carries no X-MS-CLIENT-PRINCIPAL header: sign in through the app's authentication."));
        }

        byte[] json;
        try
        {
            json = Convert.FromBase64String(header.Trim());
        }
        catch (FormatException)
        {
            return (null, ApiProblem.Unauthorized("The X-MS-CLIENT-PRINCIPAL header is not base64."));
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("claims", out var claims) || claims.ValueKind != JsonValueKind.Array)
            {
                return (null, ApiProblem.Unauthorized("The X-MS-CLIENT-PRINCIPAL header has no claims array."));
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var claim in claims.EnumerateArray())
            {
                if (claim.ValueKind != JsonValueKind.Object
                    || !claim.TryGetProperty("typ", out var typ) || typ.ValueKind != JsonValueKind.String
                    || !claim.TryGetProperty("val", out var val) || val.ValueKind != JsonValueKind.String)
                {
                    return (null, ApiProblem.Unauthorized("A claim of the X-MS-CLIENT-PRINCIPAL header is not a {typ, val} pair of strings."));
                }

                values.TryAdd(typ.GetString()!, val.GetString()!);
            }

            string provider = root.TryGetProperty("auth_typ", out var authType) && authType.ValueKind == JsonValueKind.String ? authType.GetString()! : "unknown";
            if (First(values, ObjectId) is { } oid)
            {
                return ($"entra/{First(values, TenantId) ?? "-"}/{oid}", null);
            }

            return First(values, NameId) is { } name
                ? ($"{provider}/{name}", null)
                : (null, ApiProblem.Unauthorized("The X-MS-CLIENT-PRINCIPAL header names no user: it has no object id or name identifier claim."));
        }
        catch (JsonException)
        {
            return (null, ApiProblem.Unauthorized("The X-MS-CLIENT-PRINCIPAL header is not JSON."));
        }
    }

    static string? First(Dictionary<string, string> claims, string[] types) =>
        types.Select(t => claims.GetValueOrDefault(t)).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
