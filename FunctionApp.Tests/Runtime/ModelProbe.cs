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

    public sealed record Call(IReadOnlyList<string> UserMessages, long BeganAt, long EndedAt, bool Closed);

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
            Calls.Enqueue(new Call(UserMessages(context), began, Stopwatch.GetTimestamp(), context.RequestAborted.IsCancellationRequested));
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
