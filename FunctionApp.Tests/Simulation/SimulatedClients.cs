using System.Text.Json;
using FunctionsChat.Http;
using FunctionsChat.Tests.Http;
using Microsoft.AspNetCore.Mvc;

namespace FunctionsChat.Tests.Simulation;

/// <summary>What a client did and what it was told.</summary>
public sealed record Sent(string SessionId, string TurnId, string Message, DateTimeOffset At, Task<IActionResult> Response)
{
    /// <summary>The multitask strategy the request named (null: the app's default, enqueue).</summary>
    public string? Strategy { get; init; }

    public int? Status => Response.IsCompletedSuccessfully ? StatusOf(Response.Result) : null;

    public static int? StatusOf(IActionResult result) => result switch
    {
        ObjectResult o => o.StatusCode,
        StatusCodeResult s => s.StatusCode,
        _ => null,
    };
}

/// <summary>Clients of the simulated app: they call its HTTP functions as a browser or curl would.</summary>
public static class SimulatedClients
{
    public static Task<IActionResult> Send(this DurableSimulation sim, string sessionId, string turnId, string message, string? strategy = null) =>
        sim.Request((_, client) => sim.Create<MessageFunctions>().SendMessage(Post(sessionId, "message/send", turnId, message, strategy), client, sessionId));

    public static Task<IActionResult> Call(this DurableSimulation sim, string sessionId, string turnId, string message, string? strategy = null) =>
        sim.Request((_, client) => sim.Create<MessageFunctions>().CallMessage(Post(sessionId, "message", turnId, message, strategy), client, sessionId));

    public static Task<IActionResult> GetTurn(this DurableSimulation sim, string sessionId, string turnId) =>
        sim.Request((_, client) => sim.Create<TurnFunctions>().GetTurn(HttpHarness.Request("GET", $"/Chat/{sessionId}/turns/{turnId}", contentType: null), client, sessionId, turnId));

    public static Task<IActionResult> Cancel(this DurableSimulation sim, string sessionId, string turnId) =>
        sim.Request((_, client) => sim.Create<TurnFunctions>().CancelTurn(HttpHarness.Request("DELETE", $"/Chat/{sessionId}/turns/{turnId}", contentType: null), client, sessionId, turnId));

    public static Task<IActionResult> DeleteSession(this DurableSimulation sim, string sessionId) =>
        sim.Request((_, client) => sim.Create<SessionFunctions>().DeleteSession(HttpHarness.Request("DELETE", $"/Chat/{sessionId}", contentType: null), client, sessionId));

    static Microsoft.AspNetCore.Http.HttpRequest Post(string sessionId, string route, string turnId, string message, string? strategy) =>
        HttpHarness.Request("POST", $"/Chat/{sessionId}/{route}", strategy is null ? JsonSerializer.Serialize(new { message }) : JsonSerializer.Serialize(new { message, multitask_strategy = strategy }), idempotencyKey: turnId);
}
