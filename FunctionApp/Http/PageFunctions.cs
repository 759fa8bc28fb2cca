using System.Collections.Frozen;
using System.Security.Cryptography;
using FunctionsChat.Domain;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FunctionsChat.Http;

/// <summary>
/// The chat page: <c>GET /</c> and its assets under <c>/app/</c>, shipped inside the app's assembly (nothing is loaded
/// from elsewhere at run time). The page holds no data of its own, so it needs no key; every call it makes goes to the
/// API with the caller's key or token.
/// </summary>
public sealed class PageFunctions
{
    /// <summary>The site's root: the host cannot route an empty template, so an optional segment of length 0 stands for it.</summary>
    public const string PageRoute = "{page:maxlength(0)?}";

    public const string AssetRoute = "app/{file}";

    const string Index = "index.html";

    static readonly FrozenDictionary<string, Asset> Assets = Load();

    [Function(nameof(ChatPage))]
    public IActionResult ChatPage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = PageRoute)] HttpRequest request) =>
        Serve(request, Index);

    [Function(nameof(ChatPageAsset))]
    public IActionResult ChatPageAsset([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = AssetRoute)] HttpRequest request, string file) =>
        file == Index ? ApiProblem.AssetNotFound(file).ToResult(request) : Serve(request, file);

    static IActionResult Serve(HttpRequest request, string name)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            return ApiProblem.AssetNotFound(name).ToResult(request);
        }

        var headers = request.HttpContext.Response.Headers;
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
        headers["Referrer-Policy"] = "no-referrer";
        if (request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return new StatusCodeResult(StatusCodes.Status304NotModified);
        }

        return new FileContentResult(asset.Bytes, asset.ContentType);
    }

    sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(PageFunctions).Assembly;
        const string prefix = "wwwroot/";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .ToFrozenDictionary(n => n[prefix.Length..], n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                byte[] bytes = copy.ToArray();
                return new Asset(bytes, ContentType(n), $"\"{Convert.ToHexString(SHA256.HashData(bytes))[..16]}\"");
            });
    }

    static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".png" => "image/png",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
