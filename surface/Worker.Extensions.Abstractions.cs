// Microsoft.Azure.Functions.Worker.Extensions.Abstractions 1.3.0
// Read from Azure/azure-functions-dotnet-worker: extensions/Worker.Extensions.Abstractions/src/
// FunctionAttribute.cs, BindingAttribute.cs, TriggerBindingAttribute.cs, InputBindingAttribute.cs.
namespace Microsoft.Azure.Functions.Worker
{
    [AttributeUsage(AttributeTargets.Method)]
    public class FunctionAttribute : Attribute
    {
        public FunctionAttribute(string name)
        {
            Name = name;
        }

        public string Name { get; }
    }
}

namespace Microsoft.Azure.Functions.Worker.Extensions.Abstractions
{
    [AttributeUsage(AttributeTargets.Method)]
    public abstract class BindingAttribute : Attribute
    {
        public BindingAttribute()
        {
        }
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public abstract class TriggerBindingAttribute : BindingAttribute
    {
        public TriggerBindingAttribute()
        {
        }
    }

    [AttributeUsage(AttributeTargets.Parameter)]
    public abstract class InputBindingAttribute : BindingAttribute
    {
        public InputBindingAttribute()
        {
        }
    }
}
