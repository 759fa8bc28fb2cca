namespace FunctionsChat.Tests.Surface;

/// <summary>Finds files of the repository and, beside it, the real packages' API listings.</summary>
public static class RepositoryFiles
{
    public static DirectoryInfo Root { get; } = FindRoot();

    /// <summary>FUNCTIONSCHAT_REAL_API_DIR, or the shared real-api folder beside the repository.</summary>
    public static string RealApiPath => Environment.GetEnvironmentVariable("FUNCTIONSCHAT_REAL_API_DIR")
        ?? Path.Combine(Root.Parent!.FullName, "shared", "real-api");

    public static DirectoryInfo RealApi => Directory.Exists(RealApiPath)
        ? new DirectoryInfo(RealApiPath)
        : throw new DirectoryNotFoundException(MissingListings(RealApiPath));

    public static string MissingListings(string path) =>
        $"The real packages' API listings are not at {path}; set FUNCTIONSCHAT_REAL_API_DIR.";

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
