using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FunctionsChat.Tests.Llm;

/// <summary>
/// A chat-completions server on 127.0.0.1 and a random port, speaking the Azure OpenAI
/// (<c>/openai/v1/chat/completions</c>) and OpenAI-compatible (<c>/v1/chat/completions</c>)
/// wire formats, answering each request as the test scripts it.
/// </summary>
public sealed class LoopbackModelServer : IAsyncDisposable
{
    readonly WebApplication app;

    public sealed record Seen(string Path, string Query, IReadOnlyDictionary<string, string> Headers, JsonElement Body);

    public ConcurrentQueue<Seen> Requests { get; } = new();

    public Func<HttpContext, Task> Respond { get; set; } = context => Ok(context);

    public Uri BaseAddress { get; private set; } = null!;

    LoopbackModelServer(WebApplication app) => this.app = app;

    public static async Task<LoopbackModelServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new LoopbackModelServer(app);
        app.Run(async context =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            server.Requests.Enqueue(new Seen(
                context.Request.Path.Value ?? "",
                context.Request.QueryString.Value ?? "",
                context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
                body.RootElement.Clone()));
            context.Items["body"] = body.RootElement.Clone();
            context.Items["stream"] = body.RootElement.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
            await server.Respond(context);
        });
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Urls.Single());
        return server;
    }

    public static Task Ok(HttpContext context, string text = "A poem about durable execution.", string model = "gpt-4o-mini-2024-07-18", string finishReason = "stop") =>
        context.Items["stream"] is true ? Streamed(context, text, model, finishReason) : Json(context, 200, new
        {
            id = "chatcmpl-1",
            @object = "chat.completion",
            created = 1_700_000_000,
            model,
            choices = new[] { new { index = 0, message = new { role = "assistant", content = text }, finish_reason = finishReason } },
            usage = new { prompt_tokens = 57, completion_tokens = 12, total_tokens = 69 },
        });

    /// <summary>
    /// A model that goes on speaking, a word every 50 ms for a minute, until its caller closes the request: then
    /// <paramref name="closed"/> learns how many words were sent.
    /// </summary>
    public static async Task Endless(HttpContext context, TaskCompletionSource<int> closed)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        int words = 0;
        try
        {
            for (; words < 1200; words++)
            {
                var chunk = new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model = "gpt-4o-mini", choices = new[] { new { index = 0, delta = new { role = "assistant", content = $"w{words} " }, finish_reason = (string?)null } } };
                await context.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk)}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(50, context.RequestAborted);
            }
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            closed.TrySetResult(words);
        }
    }

    /// <summary>The same answer as server-sent chunks, the way the service streams it: the text, the finish, the usage.</summary>
    static async Task Streamed(HttpContext context, string text, string model, string finishReason)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        object Chunk(object[] choices, object? usage = null) => new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1_700_000_000, model, choices, usage };
        var half = text.Length / 2;
        foreach (var chunk in new[]
        {
            Chunk([new { index = 0, delta = new { role = "assistant", content = text[..half] }, finish_reason = (string?)null }]),
            Chunk([new { index = 0, delta = new { role = (string?)null, content = text[half..] }, finish_reason = (string?)null }]),
            Chunk([new { index = 0, delta = new { role = (string?)null, content = (string?)null }, finish_reason = (string?)finishReason }]),
            Chunk([], new { prompt_tokens = 57, completion_tokens = 12, total_tokens = 69 }),
        })
        {
            await context.Response.WriteAsync($"data: {JsonSerializer.Serialize(chunk)}\n\n");
        }

        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    public static Task Error(HttpContext context, int status, string code, string message, params (string Name, string Value)[] headers)
    {
        foreach (var (name, value) in headers)
        {
            context.Response.Headers[name] = value;
        }

        return Json(context, status, new { error = new { code, message, type = "invalid_request_error" } });
    }

    static Task Json(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
