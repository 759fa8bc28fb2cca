using FunctionsChat.Domain;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FunctionsChat.Http;

/// <summary>
/// The methods a known route does not serve, answered 405 with an <c>Allow</c> header and a problem body. Without these
/// the Functions host answers such a request 404 with an empty body, as for a route that does not exist. OPTIONS is
/// left to the platform's CORS handling.
/// </summary>
public sealed class MethodNotAllowedFunctions
{
    [Function("MethodNotAllowedMessage")]
    public IActionResult Message(
        [HttpTrigger(AuthorizationLevel.Function, "get", "put", "patch", "delete", "head", Route = ChatRoutes.Message)] HttpRequest request) =>
        Refuse(request, "POST");

    [Function("MethodNotAllowedSend")]
    public IActionResult Send(
        [HttpTrigger(AuthorizationLevel.Function, "get", "put", "patch", "delete", "head", Route = ChatRoutes.Send)] HttpRequest request) =>
        Refuse(request, "POST");

    [Function("MethodNotAllowedHistory")]
    public IActionResult History(
        [HttpTrigger(AuthorizationLevel.Function, "post", "put", "patch", "delete", "head", Route = ChatRoutes.History)] HttpRequest request) =>
        Refuse(request, "GET");

    [Function("MethodNotAllowedTurn")]
    public IActionResult Turn(
        [HttpTrigger(AuthorizationLevel.Function, "post", "put", "patch", "head", Route = ChatRoutes.Turn)] HttpRequest request) =>
        Refuse(request, "GET", "DELETE");

    [Function("MethodNotAllowedTurnStream")]
    public IActionResult TurnStream(
        [HttpTrigger(AuthorizationLevel.Function, "post", "put", "patch", "delete", "head", Route = ChatRoutes.TurnStream)] HttpRequest request) =>
        Refuse(request, "GET");

    [Function("MethodNotAllowedEvents")]
    public IActionResult Events(
        [HttpTrigger(AuthorizationLevel.Function, "post", "put", "patch", "delete", "head", Route = ChatRoutes.Events)] HttpRequest request) =>
        Refuse(request, "GET");

    [Function("MethodNotAllowedSession")]
    public IActionResult Session(
        [HttpTrigger(AuthorizationLevel.Function, "get", "post", "put", "patch", "head", Route = ChatRoutes.Session)] HttpRequest request) =>
        Refuse(request, "DELETE");

    [Function("MethodNotAllowedRegenerate")]
    public IActionResult Regenerate(
        [HttpTrigger(AuthorizationLevel.Function, "get", "put", "patch", "delete", "head", Route = ChatRoutes.Regenerate)] HttpRequest request) =>
        Refuse(request, "POST");

    [Function("MethodNotAllowedEdit")]
    public IActionResult Edit(
        [HttpTrigger(AuthorizationLevel.Function, "get", "put", "patch", "delete", "head", Route = ChatRoutes.Edit)] HttpRequest request) =>
        Refuse(request, "POST");

    [Function("MethodNotAllowedBranch")]
    public IActionResult Branch(
        [HttpTrigger(AuthorizationLevel.Function, "get", "post", "patch", "delete", "head", Route = ChatRoutes.Branch)] HttpRequest request) =>
        Refuse(request, "PUT");

    [Function("MethodNotAllowedFork")]
    public IActionResult Fork(
        [HttpTrigger(AuthorizationLevel.Function, "get", "put", "patch", "delete", "head", Route = ChatRoutes.Fork)] HttpRequest request) =>
        Refuse(request, "POST");

    [Function("MethodNotAllowedSessions")]
    public IActionResult Sessions(
        [HttpTrigger(AuthorizationLevel.Function, "post", "put", "patch", "delete", "head", Route = ChatRoutes.Sessions)] HttpRequest request) =>
        Refuse(request, "GET");

    static IActionResult Refuse(HttpRequest request, params string[] allowed)
    {
        request.HttpContext.Response.Headers.Allow = string.Join(", ", allowed);
        return ApiProblem.MethodNotAllowed(request.Method, allowed).ToResult(request);
    }
}
