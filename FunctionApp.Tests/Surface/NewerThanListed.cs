namespace FunctionsChat.Tests.Surface;

/// <summary>
/// Reads surface/NEWER-THAN-LISTED.md: members of Worker.Extensions.DurableTask newer than its listed release,
/// each read from the newer source named beside it. Lines in the API line format count; all else is prose.
/// </summary>
public static class NewerThanListed
{
    public static HashSet<string> Lines()
    {
        string path = Path.Combine(RepositoryFiles.Root.FullName, "surface", "NEWER-THAN-LISTED.md");
        return File.ReadAllLines(path)
            .Where(l => l.StartsWith("T ", StringComparison.Ordinal) || (l.Length > 3 && l.StartsWith("  ", StringComparison.Ordinal) && l[3] == ' ' && "CPMFE".Contains(l[2], StringComparison.Ordinal)))
            .ToHashSet(StringComparer.Ordinal);
    }
}
