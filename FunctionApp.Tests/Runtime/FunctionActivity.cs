using System.Reflection;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// An app method with an <c>[ActivityTrigger]</c> as the Functions worker binds it: the trigger's parameter gets the
/// input, a <c>[DurableClient]</c> parameter the client, a <see cref="CancellationToken"/> the host's shutdown.
/// </summary>
sealed class FunctionActivity(MethodInfo method, IServiceProvider services, DurableTaskClient client, CancellationToken shutdown) : ITaskActivity
{
    public Type InputType => FunctionInvoker.ActivityTrigger(method).ParameterType;

    public Type OutputType => FunctionInvoker.ResultType(method) ?? typeof(object);

    public Task<object?> RunAsync(TaskActivityContext context, object? input)
    {
        RuntimeCounters.Count(RuntimeCounters.ActivityRuns);
        return FunctionInvoker.InvokeAsync(method, services, FunctionInvoker.ActivityArguments(method, input, client, shutdown));
    }
}
