namespace FunctionsChat.Tests.Surface;

/// <summary>
/// A test that reads the real packages' API listings. A clone without them beside it skips the test and says why;
/// under CI (CI=true) the listings must be there, so the test runs and fails without them.
/// </summary>
public sealed class RealApiFactAttribute : FactAttribute
{
    public RealApiFactAttribute() => Skip = SkipReason(RepositoryFiles.RealApiPath, Directory.Exists(RepositoryFiles.RealApiPath), Environment.GetEnvironmentVariable("CI"));

    public static string? SkipReason(string path, bool listingsExist, string? ci) =>
        listingsExist || string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) ? null : RepositoryFiles.MissingListings(path);
}
