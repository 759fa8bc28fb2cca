using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// An app method with an <c>[ActivityTrigger]</c> as the Functions worker binds it: the trigger's parameter gets the
/// input, a <c>[DurableClient]</c> parameter the client, a <see cref="CancellationToken"/> the host's shutdown.
/// </summary>
sealed class FunctionActivity(MethodInfo method, IServiceProvider services, DurableTaskClient client, CancellationToken shutdown) : ITaskActivity
{
    readonly ParameterInfo trigger = method.GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null);

    public Type InputType => trigger.ParameterType;

    public Type OutputType => FunctionInvoker.ResultType(method) ?? typeof(object);

    public Task<object?> RunAsync(TaskActivityContext context, object? input) =>
        FunctionInvoker.InvokeAsync(method, services, method.GetParameters().Select(p =>
            p == trigger ? input
            : p.ParameterType == typeof(DurableTaskClient) ? client
            : p.ParameterType == typeof(CancellationToken) ? shutdown
            : throw new InvalidOperationException($"Activity {method.Name} takes {p.ParameterType}")).ToArray());
}
