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

    /// <summary>A regenerate or an edit: a new variant of an earlier turn.</summary>
    public bool Variant { get; init; }

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

    public static Task<IActionResult> Regenerate(this DurableSimulation sim, string sessionId, string turnId, string key, bool later) =>
        sim.Request((_, client) => sim.Create<BranchFunctions>().RegenerateTurn(
            HttpHarness.Request("POST", $"/Chat/{sessionId}/turns/{turnId}/regenerate", later ? """{"later": true}""" : null, later ? "application/json" : null, key), client, sessionId, turnId));

    public static Task<IActionResult> Edit(this DurableSimulation sim, string sessionId, string turnId, string key, string message) =>
        sim.Request((_, client) => sim.Create<BranchFunctions>().EditTurn(
            HttpHarness.Request("POST", $"/Chat/{sessionId}/turns/{turnId}/edit", JsonSerializer.Serialize(new { message }), idempotencyKey: key), client, sessionId, turnId));

    public static Task<IActionResult> SwitchBranch(this DurableSimulation sim, string sessionId, string turnId) =>
        sim.Request((_, client) => sim.Create<BranchFunctions>().SwitchBranch(
            HttpHarness.Request("PUT", $"/Chat/{sessionId}/branch", JsonSerializer.Serialize(new { turnId })), client, sessionId));

    public static Task<IActionResult> Fork(this DurableSimulation sim, string sessionId, string turnId, string into) =>
        sim.Request((_, client) => sim.Create<BranchFunctions>().ForkSession(
            HttpHarness.Request("POST", $"/Chat/{sessionId}/fork", JsonSerializer.Serialize(new { sessionId = into, turnId })), client, sessionId));

    public static Task<IActionResult> GetHistory(this DurableSimulation sim, string sessionId) =>
        sim.Request((_, client) =>
        {
            var request = HttpHarness.Request("GET", $"/Chat/{sessionId}/getHistory", contentType: null);
            request.QueryString = new Microsoft.AspNetCore.Http.QueryString("?limit=100");
            return sim.Create<HistoryFunctions>().GetHistory(request, client, sessionId);
        });

    static Microsoft.AspNetCore.Http.HttpRequest Post(string sessionId, string route, string turnId, string message, string? strategy) =>
        HttpHarness.Request("POST", $"/Chat/{sessionId}/{route}", strategy is null ? JsonSerializer.Serialize(new { message }) : JsonSerializer.Serialize(new { message, multitask_strategy = strategy }), idempotencyKey: turnId);
}
