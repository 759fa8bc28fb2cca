using Microsoft.Extensions.Configuration;

namespace FunctionsChat.Auth;

/// <summary>
/// Whether App Service built-in authentication is on for this app: the platform sets <c>WEBSITE_AUTH_ENABLED</c> to
/// <c>True</c> when it is. Only then is <c>X-MS-CLIENT-PRINCIPAL</c> written by the platform rather than by the caller.
/// </summary>
public static class PlatformAuthentication
{
    public const string Setting = "WEBSITE_AUTH_ENABLED";

    public const string OffMessage =
        "Auth:Mode is EasyAuth but the platform's built-in authentication is off (WEBSITE_AUTH_ENABLED is not True): "
        + "anyone with a function key could then claim any user in X-MS-CLIENT-PRINCIPAL. Turn on App Service "
        + "authentication for the app, or set Auth__Mode to Jwt (or None for local development).";

    public static bool IsEnabled(IConfiguration configuration) =>
        string.Equals(configuration[Setting], "True", StringComparison.OrdinalIgnoreCase);
}
