using FunctionsChat.Http;
using FunctionsChat.Tests.Http;
using Microsoft.AspNetCore.Mvc;

namespace FunctionsChat.Tests.Page;

public class PageFunctionsTests
{
    static readonly PageFunctions Page = new();

    [Fact]
    public void The_root_serves_the_page_with_a_policy_that_allows_only_the_apps_own_files()
    {
        var request = HttpHarness.Request("GET", "/", contentType: null);

        var file = Assert.IsType<FileContentResult>(Page.ChatPage(request));

        Assert.Equal("text/html; charset=utf-8", file.ContentType);
        Assert.Contains("<script type=\"module\" src=\"app/app.js\"></script>", System.Text.Encoding.UTF8.GetString(file.FileContents));
        var headers = request.HttpContext.Response.Headers;
        Assert.StartsWith("default-src 'self'", headers.ContentSecurityPolicy.ToString());
        Assert.Equal("nosniff", headers.XContentTypeOptions.ToString());
        Assert.Equal("no-cache", headers.CacheControl.ToString());
    }

    [Theory]
    [InlineData("app.js", "text/javascript; charset=utf-8")]
    [InlineData("app.css", "text/css; charset=utf-8")]
    public void Its_files_are_served_from_the_assembly_and_refer_to_nothing_elsewhere(string name, string contentType)
    {
        var file = Assert.IsType<FileContentResult>(Page.ChatPageAsset(HttpHarness.Request("GET", "/app/" + name, contentType: null), name));

        Assert.Equal(contentType, file.ContentType);
        string text = System.Text.Encoding.UTF8.GetString(file.FileContents);
        Assert.DoesNotContain("http://", text);
        Assert.DoesNotContain("https://", text);
    }

    [Fact]
    public void A_file_the_browser_holds_is_not_sent_again()
    {
        var first = HttpHarness.Request("GET", "/app/app.js", contentType: null);
        Page.ChatPageAsset(first, "app.js");
        var again = HttpHarness.Request("GET", "/app/app.js", contentType: null);
        again.Headers.IfNoneMatch = first.HttpContext.Response.Headers.ETag;

        Assert.Equal(304, Assert.IsType<StatusCodeResult>(Page.ChatPageAsset(again, "app.js")).StatusCode);
    }

    [Theory]
    [InlineData("nope.js")]
    [InlineData("index.html")]
    [InlineData("..%2Fappsettings.json")]
    public void An_unknown_file_is_a_404_problem(string name)
    {
        HttpHarness.Problem(Page.ChatPageAsset(HttpHarness.Request("GET", "/app/" + name, contentType: null), name), 404, "not-found");
    }
}
