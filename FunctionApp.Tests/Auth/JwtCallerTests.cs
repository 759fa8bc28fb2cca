using System.Security.Claims;
using FunctionsChat.Auth;
using FunctionsChat.Tests.Http;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace FunctionsChat.Tests.Auth;

/// <summary>Jwt mode through the app's own registration and ASP.NET Core's JWT bearer handler, with a test signing key.</summary>
public sealed class JwtCallerTests : IDisposable
{
    const string Issuer = "https://login.example.test/tenant-1/v2.0";
    const string Audience = "api://functionschat";
    static readonly SymmetricSecurityKey Key = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    readonly ServiceProvider services;

    public JwtCallerTests()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "Jwt",
            ["Auth:Authority"] = "https://login.example.test/tenant-1/v2.0",
            ["Auth:Audience"] = Audience,
        }).Build();
        var collection = new ServiceCollection().AddLogging().AddFunctionsChat(configuration);

        // The authority's OpenID configuration, given here instead of fetched: the issuer and its signing key.
        collection.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, o =>
        {
            o.Configuration = new OpenIdConnectConfiguration { Issuer = Issuer };
            o.Configuration.SigningKeys.Add(Key);
        });
        services = collection.BuildServiceProvider();
    }

    public void Dispose() => services.Dispose();

    static string Token(string issuer = Issuer, string audience = Audience, TimeSpan? expiresIn = null, bool signed = true, string? oid = "oid-1")
    {
        var now = DateTime.UtcNow;
        var claims = new List<Claim> { new("tid", "tenant-1"), new("sub", "subject-1") };
        if (oid is not null)
        {
            claims.Add(new("oid", oid));
        }

        var expires = now + (expiresIn ?? TimeSpan.FromMinutes(30));
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = expires.AddMinutes(-60),
            NotBefore = expires.AddMinutes(-60),
            Expires = expires,
            SigningCredentials = signed ? new SigningCredentials(Key, SecurityAlgorithms.HmacSha256) : null,
        });
    }

    async Task<(string? Caller, FunctionsChat.Domain.ApiProblem? Problem, HttpRequest Request)> Identify(string? token)
    {
        var request = HttpHarness.Request("GET", "/Chat");
        request.HttpContext.RequestServices = services;
        if (token is not null)
        {
            request.Headers.Authorization = "Bearer " + token;
        }

        var (caller, problem) = await services.GetRequiredService<CallerResolver>().IdentifyAsync(request);
        return (caller, problem, request);
    }

    [Fact]
    public async Task A_valid_token_names_the_caller_by_tenant_and_object_id()
    {
        var (caller, problem, _) = await Identify(Token());

        Assert.Null(problem);
        Assert.Equal("jwt/tenant-1/oid-1", caller);
    }

    [Fact]
    public async Task A_token_without_an_object_id_names_the_caller_by_subject()
    {
        Assert.Equal("jwt/tenant-1/subject-1", (await Identify(Token(oid: null))).Caller);
    }

    [Theory]
    [InlineData("expired")]
    [InlineData("wrong audience")]
    [InlineData("wrong issuer")]
    [InlineData("unsigned")]
    [InlineData("missing")]
    public async Task Tokens_that_do_not_validate_are_401_with_a_bearer_challenge(string kind)
    {
        string? token = kind switch
        {
            "expired" => Token(expiresIn: TimeSpan.FromMinutes(-10)),
            "wrong audience" => Token(audience: "api://someone-else"),
            "wrong issuer" => Token(issuer: "https://evil.example.test/"),
            "unsigned" => Token(signed: false),
            _ => null,
        };

        var (caller, problem, request) = await Identify(token);

        Assert.Null(caller);
        Assert.Equal((401, "urn:functionschat:problem:unauthorized"), (problem!.Status, problem.Type));
        Assert.Equal("Bearer", request.HttpContext.Response.Headers.WWWAuthenticate.ToString());
    }

    [Fact]
    public void Jwt_mode_without_authority_and_audience_fails_at_start_with_a_clear_message()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Auth:Mode"] = "Jwt" }).Build();
        using var provider = new ServiceCollection().AddLogging().AddFunctionsChat(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AuthOptions>>().Value);

        Assert.Contains("Auth:Authority or Auth:Audience is not set", error.Message);
    }
}
