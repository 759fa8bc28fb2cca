using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FunctionsChat.Tests.Runtime;

/// <summary>Calls a function method as the worker does: on a new instance from the container (or static), awaiting what it returns.</summary>
public static class FunctionInvoker
{
    public static async Task<object?> InvokeAsync(MethodInfo method, IServiceProvider services, object?[] arguments)
    {
        object? target = method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, method.DeclaringType!);
        var task = (Task)method.Invoke(target, arguments)!;
        await task;
        return ResultType(method) is null ? null : task.GetType().GetProperty(nameof(Task<object>.Result))!.GetValue(task);
    }

    /// <summary>The parameter an activity's input binds to.</summary>
    public static ParameterInfo ActivityTrigger(MethodInfo method) =>
        method.GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null);

    /// <summary>An activity's arguments as the worker binds them: the input, the Durable client, the host's shutdown token.</summary>
    public static object?[] ActivityArguments(MethodInfo method, object? input, DurableTaskClient client, CancellationToken shutdown)
    {
        var trigger = ActivityTrigger(method);
        return method.GetParameters().Select(p =>
            p == trigger ? input
            : p.ParameterType == typeof(DurableTaskClient) ? client
            : p.ParameterType == typeof(CancellationToken) ? shutdown
            : throw new InvalidOperationException($"Activity {method.Name} takes {p.ParameterType}")).ToArray();
    }

    /// <summary>T of a method returning Task&lt;T&gt;; null for a plain Task.</summary>
    public static Type? ResultType(MethodInfo method) =>
        method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(Task<>) ? method.ReturnType.GetGenericArguments()[0] : null;
}
