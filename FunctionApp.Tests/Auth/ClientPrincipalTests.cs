using System.Text;
using FunctionsChat.Domain;

namespace FunctionsChat.Tests.Auth;

public class ClientPrincipalTests
{
    [Fact]
    public void An_Entra_principal_is_the_caller_by_tenant_and_object_id()
    {
        string header = PrincipalHeaders.Encode("aad",
            ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid-1"),
            ("http://schemas.microsoft.com/identity/claims/tenantid", "tenant-1"),
            ("name", "Alice"));

        Assert.Equal(("entra/tenant-1/oid-1", (ApiProblem?)null), ClientPrincipal.Read(header));
    }

    [Fact]
    public void Another_provider_is_the_caller_by_its_name_identifier()
    {
        string header = PrincipalHeaders.Encode("github", ("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier", "12345"));

        Assert.Equal("github/12345", ClientPrincipal.Read(header).CallerId);
    }

    [Theory]
    [InlineData(null, "no X-MS-CLIENT-PRINCIPAL header")]
    [InlineData("", "no X-MS-CLIENT-PRINCIPAL header")]
    [InlineData("***not base64***", "not base64")]
    public void A_missing_or_undecodable_header_is_401(string? header, string because)
    {
        var (caller, problem) = ClientPrincipal.Read(header);

        Assert.Null(caller);
        Assert.Equal((401, "urn:functionschat:problem:unauthorized"), (problem!.Status, problem.Type));
        Assert.Contains(because, problem.Detail);
    }

    [Theory]
    [InlineData("{not json", "not JSON")]
    [InlineData("[1,2]", "no claims array")]
    [InlineData("{\"claims\":{}}", "no claims array")]
    [InlineData("{\"claims\":[{\"typ\":\"oid\",\"val\":42}]}", "not a {typ, val} pair")]
    [InlineData("{\"claims\":[\"oid\"]}", "not a {typ, val} pair")]
    [InlineData("{\"claims\":[{\"typ\":\"name\",\"val\":\"Alice\"}]}", "names no user")]
    public void A_header_of_the_wrong_shape_is_401(string json, string because)
    {
        var (caller, problem) = ClientPrincipal.Read(Convert.ToBase64String(Encoding.UTF8.GetBytes(json)));

        Assert.Null(caller);
        Assert.Equal(401, problem!.Status);
        Assert.Contains(because, problem.Detail);
    }

    [Fact]
    public void Session_keys_put_a_fixed_length_owner_fingerprint_before_the_session_id()
    {
        string alice = SessionKeys.For("entra/t/alice", "session123");
        string bob = SessionKeys.For("entra/t/bob", "session123");

        Assert.NotEqual(alice, bob);
        Assert.Equal(SessionKeys.OwnerLength + 1 + "session123".Length, alice.Length);
        Assert.StartsWith(SessionKeys.Prefix("entra/t/alice"), alice);
        Assert.DoesNotContain("alice", alice);
        Assert.True(SessionKeys.For("x", new string('a', 128)).Length <= 161);
    }
}
