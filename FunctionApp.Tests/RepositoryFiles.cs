namespace FunctionsChat.Tests;

/// <summary>Finds files of the repository from the test output.</summary>
public static class RepositoryFiles
{
    public static DirectoryInfo Root { get; } = FindRoot();

    static DirectoryInfo FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FunctionsChat.sln")))
            {
                return dir;
            }
        }

        throw new DirectoryNotFoundException("FunctionsChat.sln was not found above the test output.");
    }
}
