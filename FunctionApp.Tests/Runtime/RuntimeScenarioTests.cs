using System.Net;
using System.Text;
using System.Text.Json;
using FunctionsChat.Tests.Llm;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// The app's promises over HTTP, on the real Durable runtime (DurableTask.Core with the Azure Storage backend over
/// Azurite) and a loopback model server.
/// </summary>
[Collection(DurableRuntimeCollection.Name)]
public class RuntimeScenarioTests(DurableRuntimeFixture runtime)
{
    static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_call_answers_with_the_models_reply()
    {
        runtime.Model.Respond = c => LoopbackModelServer.Ok(c, "Durable poems never end.");
        await using var host = await runtime.StartAsync();

        using var response = await host.Http.PostAsync("/Chat/rt-call/message", Json(new { message = "make a poem" }));

        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("Durable poems never end.", JsonDocument.Parse(body).RootElement.GetProperty("answer").GetString());
    }
}
