using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionsChat.Tests.Runtime;

/// <summary>Calls a function method as the worker does: on a new instance from the container (or static), awaiting what it returns.</summary>
static class FunctionInvoker
{
    public static async Task<object?> InvokeAsync(MethodInfo method, IServiceProvider services, object?[] arguments)
    {
        object? target = method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, method.DeclaringType!);
        var task = (Task)method.Invoke(target, arguments)!;
        await task;
        return ResultType(method) is null ? null : task.GetType().GetProperty(nameof(Task<object>.Result))!.GetValue(task);
    }

    /// <summary>T of a method returning Task&lt;T&gt;; null for a plain Task.</summary>
    public static Type? ResultType(MethodInfo method) =>
        method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(Task<>) ? method.ReturnType.GetGenericArguments()[0] : null;
}
