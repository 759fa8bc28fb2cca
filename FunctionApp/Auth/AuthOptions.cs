using System.ComponentModel.DataAnnotations;

namespace FunctionsChat.Auth;

public enum AuthMode
{
    /// <summary>Every caller is one anonymous principal (local development; Function keys still gate Azure).</summary>
    None,

    /// <summary>App Service / Functions built-in authentication: the platform validates the caller and passes X-MS-CLIENT-PRINCIPAL.</summary>
    EasyAuth,

    /// <summary>Bearer tokens validated in the app by ASP.NET Core's JWT bearer handler.</summary>
    Jwt,
}

/// <summary>The <c>Auth</c> configuration section.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    public AuthMode Mode { get; set; } = AuthMode.None;

    /// <summary>Jwt: the token issuer's authority, for its OpenID configuration (for example https://login.microsoftonline.com/{tenant}/v2.0).</summary>
    public string? Authority { get; set; }

    /// <summary>
    /// Jwt: the audience tokens must carry. For an Entra app registration issuing v2.0 tokens that is its client id
    /// (a GUID), not its Application ID URI (api://{client-id}): v2.0 tokens name the client id.
    /// </summary>
    [MaxLength(400)]
    public string? Audience { get; set; }
}
