using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;

namespace FunctionsChat.Tests.Hosting;

/// <summary>The API's requests as a client writes them, and its server-sent events read with a real SSE parser.</summary>
public static class ChatRequests
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static HttpRequestMessage Post(string path, string message, string? turnId = null, bool streamed = false, string? strategy = null)
    {
        object body = strategy is null ? new { message } : new { message, multitask_strategy = strategy };
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
        if (turnId is not null)
        {
            request.Headers.Add("Idempotency-Key", turnId);
        }

        if (streamed)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        }

        return request;
    }

    public static HttpRequestMessage Get(string path, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        return request;
    }

    /// <summary>Reads events until <paramref name="enough"/> says so (or the stream ends); the connection is then dropped.</summary>
    public static async Task<List<SseItem<string>>> ReadEvents(HttpClient http, HttpRequestMessage request, Func<List<SseItem<string>>, bool>? enough = null)
    {
        using var timeout = new CancellationTokenSource(Patience);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<SseItem<string>>();
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
        await foreach (var item in SseParser.Create(body).EnumerateAsync(timeout.Token))
        {
            events.Add(item);
            if (enough?.Invoke(events) == true)
            {
                break;
            }
        }

        return events;
    }

    public static string Field(SseItem<string> item, string name) => JsonDocument.Parse(item.Data).RootElement.GetProperty(name).ToString();

    public static string Deltas(IEnumerable<SseItem<string>> events) => string.Concat(events.Where(e => e.EventType == "delta").Select(e => Field(e, "text")));

    /// <summary>The response's status and JSON body, failing with the body when the status is not <paramref name="expected"/>.</summary>
    public static async Task<JsonElement> Expect(HttpStatusCode expected, HttpResponseMessage response)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Reads until <paramref name="done"/> holds, for at most <paramref name="within"/>; fails with what it last saw.</summary>
    public static async Task<T> Until<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        T last;
        while (!done(last = await read()))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what} did not happen within {within.TotalSeconds} s; last seen: {(last is JsonElement json ? json.GetRawText() : last?.ToString())}");
            }

            await Task.Delay(50);
        }

        return last;
    }
}
