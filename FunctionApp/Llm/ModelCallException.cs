using FunctionsChat.Domain;

namespace FunctionsChat.Llm;

/// <summary>A classified model-call failure; its message carries the code across the activity boundary.</summary>
public sealed class ModelCallException(ModelFailure failure, Exception? inner = null)
    : Exception(failure.ToMessage(), inner)
{
    public ModelFailure Failure { get; } = failure;
}
