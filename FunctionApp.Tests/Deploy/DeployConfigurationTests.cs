using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FunctionsChat.Tests.Deploy;

public partial class DeployConfigurationTests
{
    static readonly string Template = Read("infra", "main.bicep");
    static readonly string ParameterFile = Read("infra", "main.parameters.json");

    static string Read(params string[] path) => File.ReadAllText(Path.Combine(RepositoryFiles.Root.FullName, Path.Combine(path)));

    // How azd reads an environment value into the template: ${NAME}, or ${NAME=default} when NAME is unset.
    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:=(?<default>[^}]*))?\}")]
    private static partial Regex EnvironmentReference();

    [GeneratedRegex(@"^output\s+(?<name>\w+)\s", RegexOptions.Multiline)]
    private static partial Regex Output();

    [GeneratedRegex(@"^param\s+(?<name>\w+)\s", RegexOptions.Multiline)]
    private static partial Regex Parameter();

    static Dictionary<string, string?> EnvironmentNames() =>
        EnvironmentReference().Matches(ParameterFile).ToDictionary(
            m => m.Groups["name"].Value,
            m => m.Groups["default"].Success ? m.Groups["default"].Value : (string?)null,
            StringComparer.Ordinal);

    static string TemplateDefault(string parameter) =>
        Regex.Match(Template, $@"^param\s+{parameter}\s+string\s*=\s*'(?<value>[^']*)'", RegexOptions.Multiline) is { Success: true } match
            ? match.Groups["value"].Value
            : throw new InvalidOperationException($"infra/main.bicep has no string default for {parameter}.");

    static JsonElement HostSetting(params string[] path)
    {
        using var host = JsonDocument.Parse(Read("host.json"), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var element = host.RootElement;
        foreach (string name in path)
        {
            Assert.True(element.TryGetProperty(name, out var child), $"host.json has no {string.Join('.', path)}");
            element = child;
        }

        return element.Clone();
    }

    [Fact]
    public void Parameter_file_and_outputs_share_no_environment_name()
    {
        var inputs = EnvironmentNames().Keys;
        var outputs = Output().Matches(Template).Select(m => m.Groups["name"].Value).ToList();

        Assert.NotEmpty(inputs);
        Assert.NotEmpty(outputs);
        Assert.Empty(outputs.Intersect(inputs, StringComparer.Ordinal));
    }

    [Fact]
    public void Every_parameter_the_parameter_file_sets_exists_in_the_template()
    {
        using var file = JsonDocument.Parse(ParameterFile);
        var declared = Parameter().Matches(Template).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);

        Assert.All(file.RootElement.GetProperty("parameters").EnumerateObject(), p => Assert.Contains(p.Name, declared));
    }

    [Fact]
    public void Host_polls_the_task_hub_queues_at_least_every_ten_seconds()
    {
        string? interval = HostSetting("extensions", "durableTask", "storageProvider", "maxQueuePollingInterval").GetString();

        var parsed = TimeSpan.Parse(interval!, CultureInfo.InvariantCulture);

        Assert.InRange(parsed, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Host_sends_its_telemetry_through_OpenTelemetry()
    {
        Assert.Equal("OpenTelemetry", HostSetting("telemetryMode").GetString(), ignoreCase: true);
    }

    [Fact]
    public void Default_chat_model_is_not_the_retired_gpt_4o_mini_version()
    {
        var defaults = EnvironmentNames();

        Assert.NotEqual("2024-07-18", TemplateDefault("chatModelVersion"));
        Assert.NotEqual("2024-07-18", defaults["CHAT_MODEL_VERSION"]);
    }

    [Fact]
    public void Template_and_parameter_file_default_to_the_same_chat_model()
    {
        var defaults = EnvironmentNames();

        Assert.Equal(TemplateDefault("chatModelName"), defaults["CHAT_MODEL_NAME"]);
        Assert.Equal(TemplateDefault("chatModelVersion"), defaults["CHAT_MODEL_VERSION"]);
        Assert.Equal(TemplateDefault("chatDeploymentSku"), defaults["CHAT_DEPLOYMENT_SKU"]);
    }
}
