using System.Reflection;
using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// An app method with an <c>[OrchestrationTrigger]</c> as the Functions worker runs it: its input type is
/// <see cref="object"/> (the trigger is the only parameter), and it sees a <see cref="FunctionsOrchestrationContext"/>.
/// </summary>
sealed class FunctionOrchestrator(MethodInfo method, IServiceProvider services, JsonSerializerOptions serializer, ILoggerFactory loggers) : ITaskOrchestrator
{
    public Type InputType => typeof(object);

    public Type OutputType => FunctionInvoker.ResultType(method) ?? typeof(object);

    public Task<object?> RunAsync(TaskOrchestrationContext context, object? input)
    {
        RuntimeCounters.Count(RuntimeCounters.OrchestratorEpisodes);
        return FunctionInvoker.InvokeAsync(method, services, [new FunctionsOrchestrationContext(context, input, serializer, loggers)]);
    }
}
