using System.Reflection;
using FunctionsChat.Tests.Wiring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FunctionsChat.Tests.Hosting;

/// <summary>
/// The app's HTTP functions on a real Kestrel server on 127.0.0.1 and a free port: every function with an HTTP trigger
/// is mapped at its route and methods, its arguments bound as the host binds them (the request, the Durable client,
/// route values), and the <see cref="IActionResult"/> it returns executed against the request as the isolated worker's
/// ASP.NET Core integration does. This is not the Functions host; it is the app's own code over HTTP.
/// </summary>
public static class HttpFunctionsOnKestrel
{
    /// <summary>A slim web application on 127.0.0.1:0 with MVC's result executors and no logging.</summary>
    public static WebApplicationBuilder Builder()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddMvcCore();
        return builder;
    }

    /// <summary>Maps every HTTP function; each invocation gets <paramref name="client"/> as its Durable client.</summary>
    public static void MapFunctions(WebApplication app, DurableTaskClient client)
    {
        foreach (var (method, _, trigger) in AppFunctions.Http())
        {
            app.MapMethods("/" + trigger.Route, trigger.Methods!.Select(m => m.ToUpperInvariant()), (HttpContext context) => InvokeAsync(context, method, client));
        }
    }

    static async Task InvokeAsync(HttpContext context, MethodInfo method, DurableTaskClient client)
    {
        object?[] arguments = method.GetParameters().Select(object? (p) =>
            p.ParameterType == typeof(HttpRequest) ? context.Request
            : p.ParameterType == typeof(DurableTaskClient) ? client
            : p.ParameterType == typeof(string) ? context.Request.RouteValues[p.Name!]?.ToString()
            : throw new InvalidOperationException($"{method.Name} takes {p.ParameterType}")).ToArray();
        object? target = method.IsStatic ? null : ActivatorUtilities.CreateInstance(context.RequestServices, method.DeclaringType!);
        object? returned = method.Invoke(target, arguments);
        var result = returned is Task<IActionResult> pending ? await pending : (IActionResult)returned!;
        await result.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
    }
}
