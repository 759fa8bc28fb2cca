using Microsoft.Extensions.Options;

namespace FunctionsChat.Llm;

/// <summary>One clear message per missing or bad <c>Llm</c> setting, checked at start-up.</summary>
public sealed class LlmOptionsValidator : IValidateOptions<LlmOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmOptions options)
    {
        var errors = new List<string>();
        if (options.Provider is LlmProvider.AzureOpenAI or LlmProvider.OpenAI)
        {
            if (options.Endpoint is null || options.Endpoint.OriginalString.Length == 0)
            {
                errors.Add($"Llm:Endpoint is not set; the {options.Provider} provider needs it (Llm__Endpoint).");
            }
            else if (!options.Endpoint.IsAbsoluteUri || options.Endpoint.Scheme is not ("https" or "http"))
            {
                errors.Add($"Llm:Endpoint '{options.Endpoint}' is not an absolute http(s) URL.");
            }

            if (string.IsNullOrWhiteSpace(options.Model))
            {
                errors.Add(options.Provider == LlmProvider.AzureOpenAI
                    ? "Llm:Model is not set; give the Azure OpenAI deployment name (Llm__Model)."
                    : "Llm:Model is not set; give the model name the endpoint serves (Llm__Model).");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
