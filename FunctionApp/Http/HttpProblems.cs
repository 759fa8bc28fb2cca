using FunctionsChat.Domain;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace FunctionsChat.Http;

/// <summary>Turns an <see cref="ApiProblem"/> into ASP.NET Core's RFC 9457 problem details.</summary>
public static class HttpProblems
{
    public const string ContentType = "application/problem+json";

    public static ObjectResult ToResult(this ApiProblem problem, HttpRequest request) =>
        new(new ProblemDetails
        {
            Status = problem.Status,
            Type = problem.Type,
            Title = problem.Title,
            Detail = problem.Detail,
            Instance = request.Path.Value,
        })
        {
            StatusCode = problem.Status,
            ContentTypes = { ContentType },
        };
}
