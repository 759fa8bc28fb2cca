using System.Reflection;
using FunctionsChat.Sessions;
using Microsoft.Azure.Functions.Worker;

namespace FunctionsChat.Tests.Wiring;

/// <summary>The app's functions as the worker's metadata finds them: every method with a <see cref="FunctionAttribute"/>.</summary>
public static class AppFunctions
{
    public static IEnumerable<(MethodInfo Method, FunctionAttribute Function)> All() =>
        typeof(ChatSession).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Function: m.GetCustomAttribute<FunctionAttribute>()))
            .Where(f => f.Function is not null)
            .Select(f => (f.Method, f.Function!));

    /// <summary>The functions an HTTP request triggers, with their trigger (route, methods, key level).</summary>
    public static IEnumerable<(MethodInfo Method, FunctionAttribute Function, HttpTriggerAttribute Trigger)> Http() =>
        All().Select(f => (f.Method, f.Function, Trigger: f.Method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).SingleOrDefault(a => a is not null)))
            .Where(f => f.Trigger is not null)
            .Select(f => (f.Method, f.Function, f.Trigger!));
}
