using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// What the loopback model saw: each request's user messages, when it began and when its last byte was written, and
/// how many requests were open at once.
/// </summary>
public sealed class ModelProbe
{
    int open;

    /// <param name="Messages">Every message of the request (system, user and assistant).</param>
    /// <param name="BodyBytes">The request body's size in UTF-8 bytes.</param>
    public sealed record Call(IReadOnlyList<string> UserMessages, long BeganAt, long EndedAt, bool Closed)
    {
        public int Messages { get; init; }

        public long BodyBytes { get; init; }
    }

    public ConcurrentQueue<Call> Calls { get; } = new();

    public int MostAtOnce { get; private set; }

    /// <summary>The calls in the order they began.</summary>
    public IReadOnlyList<Call> InOrder => Calls.OrderBy(c => c.BeganAt).ToList();

    public Func<HttpContext, Task> Around(Func<HttpContext, Task> respond) => async context =>
    {
        long began = Stopwatch.GetTimestamp();
        int now = Interlocked.Increment(ref open);
        MostAtOnce = Math.Max(MostAtOnce, now);
        try
        {
            await respond(context);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
        finally
        {
            Interlocked.Decrement(ref open);
            var body = context.Items["body"] as JsonElement?;
            Calls.Enqueue(new Call(UserMessages(context), began, Stopwatch.GetTimestamp(), context.RequestAborted.IsCancellationRequested)
            {
                Messages = body?.GetProperty("messages").GetArrayLength() ?? 0,
                BodyBytes = body is { } json ? System.Text.Encoding.UTF8.GetByteCount(json.GetRawText()) : 0,
            });
        }
    };

    static List<string> UserMessages(HttpContext context) =>
        context.Items["body"] is JsonElement body
            ? body.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("role").GetString() == "user").Select(m => Text(m.GetProperty("content"))).ToList()
            : [];

    // The OpenAI library writes a message's content as a string or as parts.
    static string Text(JsonElement content) => content.ValueKind == JsonValueKind.String
        ? content.GetString()!
        : string.Concat(content.EnumerateArray().Select(p => p.GetProperty("text").GetString()));
}
