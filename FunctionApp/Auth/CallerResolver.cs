using FunctionsChat.Domain;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Auth;

/// <summary>
/// The one place that decides who is calling: no function reads a header of its own. The caller's id becomes part of
/// every session key, so each caller sees only their own sessions.
/// </summary>
public sealed class CallerResolver(IOptions<AuthOptions> options)
{
    public const string AnonymousCaller = "anonymous";
    public const string PrincipalHeader = "X-MS-CLIENT-PRINCIPAL";

    public async Task<(string? CallerId, ApiProblem? Problem)> IdentifyAsync(HttpRequest request)
    {
        switch (options.Value.Mode)
        {
            case AuthMode.EasyAuth:
                return ClientPrincipal.Read(request.Headers[PrincipalHeader]);
            case AuthMode.Jwt:
                var result = await request.HttpContext.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
                if (!result.Succeeded)
                {
                    request.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                    return (null, ApiProblem.Unauthorized(result.Failure?.Message ?? "Send a bearer token: Authorization: Bearer <token>."));
                }

                var user = result.Principal;
                string? subject = user.FindFirst("oid")?.Value ?? user.FindFirst("sub")?.Value;
                string? issuer = user.FindFirst("tid")?.Value ?? user.FindFirst("iss")?.Value;
                return subject is null
                    ? (null, ApiProblem.Unauthorized("The token names no user: it has no oid or sub claim."))
                    : ($"jwt/{issuer}/{subject}", null);
            default:
                return (AnonymousCaller, null);
        }
    }

    /// <summary>The caller's key for a session, or the problem to answer.</summary>
    public async Task<(string? SessionKey, ApiProblem? Problem)> SessionKeyAsync(HttpRequest request, string sessionId)
    {
        var (caller, problem) = await IdentifyAsync(request);
        return caller is null ? (null, problem) : (SessionKeys.For(caller, sessionId), null);
    }
}
