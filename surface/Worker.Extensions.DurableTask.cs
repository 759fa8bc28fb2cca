// Microsoft.Azure.Functions.Worker.Extensions.DurableTask (listed at 1.1.7; the app pins a newer release)
// Read from Azure/azure-functions-durable-extension: src/Worker.Extensions.DurableTask/
// ActivityTriggerAttribute.cs, DurableClientAttribute.cs, EntityTriggerAttribute.cs,
// OrchestrationTriggerAttribute.cs, TaskEntityDispatcher.cs.
using FunctionsChat.Surface;
using Microsoft.Azure.Functions.Worker.Extensions.Abstractions;

namespace Microsoft.Azure.Functions.Worker
{
    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class ActivityTriggerAttribute : TriggerBindingAttribute
    {
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class DurableClientAttribute : InputBindingAttribute
    {
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class EntityTriggerAttribute : TriggerBindingAttribute
    {
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public sealed class OrchestrationTriggerAttribute : TriggerBindingAttribute
    {
    }

    public sealed class TaskEntityDispatcher
    {
        internal TaskEntityDispatcher()
        {
        }

        public Task DispatchAsync<T>() => throw SurfaceOnly.Fail();
    }
}
