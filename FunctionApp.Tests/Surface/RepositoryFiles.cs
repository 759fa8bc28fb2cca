namespace FunctionsChat.Tests.Surface;

/// <summary>Finds files of the repository and, beside it, the real packages' API listings.</summary>
public static class RepositoryFiles
{
    public static DirectoryInfo Root { get; } = FindRoot();

    /// <summary>FUNCTIONSCHAT_REAL_API_DIR, or the shared real-api folder beside the repository.</summary>
    public static DirectoryInfo RealApi
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("FUNCTIONSCHAT_REAL_API_DIR")
                ?? Path.Combine(Root.Parent!.FullName, "shared", "real-api");
            return Directory.Exists(path)
                ? new DirectoryInfo(path)
                : throw new DirectoryNotFoundException($"The real packages' API listings are not at {path}; set FUNCTIONSCHAT_REAL_API_DIR.");
        }
    }

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
