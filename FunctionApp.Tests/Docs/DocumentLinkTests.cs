using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FunctionsChat.Tests.Docs;

/// <summary>
/// Every relative link and image in README.md and docs/*.md points at a file of the repository, and every
/// <c>#anchor</c> into a markdown file names one of its headings as GitHub writes the heading's id.
/// </summary>
public partial class DocumentLinkTests
{
    static readonly string Root = RepositoryFiles.Root.FullName;

    public static TheoryData<string> Documents()
    {
        var documents = new TheoryData<string> { "README.md" };
        foreach (string file in Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            documents.Add(Path.GetRelativePath(Root, file).Replace('\\', '/'));
        }

        return documents;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_relative_link_resolves_to_a_file_and_every_anchor_to_a_heading(string document)
    {
        var broken = BrokenLinks(Path.Combine(Root, document));

        Assert.True(broken.Count == 0, $"{document} has links that do not resolve:\n  " + string.Join("\n  ", broken));
    }

    [Fact]
    public void The_readme_links_every_docs_page()
    {
        var linked = Links(File.ReadAllText(Path.Combine(Root, "README.md")))
            .Select(l => l.Target.Split('#')[0])
            .ToHashSet(StringComparer.Ordinal);
        var pages = Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(f => "docs/" + Path.GetFileName(f));

        var unlinked = pages.Where(p => !linked.Contains(p)).ToList();

        Assert.True(unlinked.Count == 0, "README.md does not link " + string.Join(", ", unlinked));
    }

    [Fact]
    public void A_link_to_a_missing_file_or_heading_is_reported()
    {
        string dir = Directory.CreateTempSubdirectory("doclinks").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "other.md"), "# Real heading\n\n## A second: one, `code` and [a link](x.md)\n");
            string page = Path.Combine(dir, "page.md");
            File.WriteAllText(page, string.Join('\n',
                "# Page",
                "[fine](other.md#real-heading) [fine too](other.md#a-second-one-code-and-a-link) [here](#page)",
                "![gone](missing.png) [gone](nowhere.md) [no such heading](other.md#nope) [no such own heading](#nope)",
                "[outside](https://example.com/missing.md) `[in code](missing-in-code.md)`",
                "```",
                "[in a fence](missing-in-fence.md)",
                "```"));

            var broken = BrokenLinks(page);

            Assert.Equal(["missing.png", "nowhere.md", "other.md#nope", "#nope"], broken.Select(b => b.Split(' ')[0]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("A second message while a turn runs, and stopping a turn", "a-second-message-while-a-turn-runs-and-stopping-a-turn")]
    [InlineData("What runs where in the tests", "what-runs-where-in-the-tests")]
    [InlineData("The `Api__CallTimeout` rule", "the-api__calltimeout-rule")]
    [InlineData("Purge, delete and retention", "purge-delete-and-retention")]
    [InlineData("Locally against the scheduler's emulator", "locally-against-the-schedulers-emulator")]
    public void A_heading_id_is_written_as_GitHub_writes_it(string heading, string id) =>
        Assert.Equal(id, Slug(heading));

    /// <returns>Each broken link as "target (line n)".</returns>
    static List<string> BrokenLinks(string document)
    {
        string text = File.ReadAllText(document);
        string directory = Path.GetDirectoryName(document)!;
        var broken = new List<string>();
        foreach (var (target, line) in Links(text))
        {
            if (IsExternal(target))
            {
                continue;
            }

            int hash = target.IndexOf('#', StringComparison.Ordinal);
            string path = Uri.UnescapeDataString(hash < 0 ? target : target[..hash]);
            string? anchor = hash < 0 ? null : Uri.UnescapeDataString(target[(hash + 1)..]);
            string file = path.Length == 0 ? document : Path.GetFullPath(Path.Combine(directory, path));

            if (!File.Exists(file) && !Directory.Exists(file))
            {
                broken.Add($"{target} (line {line}: no such file)");
            }
            else if (anchor is { Length: > 0 } && file.EndsWith(".md", StringComparison.OrdinalIgnoreCase) && !Anchors(File.ReadAllText(file)).Contains(anchor))
            {
                broken.Add($"{target} (line {line}: no heading with that id)");
            }
        }

        return broken;
    }

    static bool IsExternal(string target) => SchemePattern().IsMatch(target) || target.StartsWith("//", StringComparison.Ordinal);

    /// <summary>Inline links and images, and reference definitions, outside fenced code and code spans.</summary>
    static IEnumerable<(string Target, int Line)> Links(string markdown)
    {
        int number = 0;
        foreach (string line in Prose(markdown))
        {
            number++;
            string prose = CodeSpanPattern().Replace(line, "");
            foreach (Match link in InlineLinkPattern().Matches(prose))
            {
                yield return (link.Groups["target"].Value, number);
            }

            if (ReferencePattern().Match(prose) is { Success: true } reference)
            {
                yield return (reference.Groups["target"].Value, number);
            }
        }
    }

    /// <summary>The lines of the document, with lines inside fenced code blocks blanked (so line numbers stay true).</summary>
    static IEnumerable<string> Prose(string markdown)
    {
        string? fence = null;
        foreach (string line in markdown.Split('\n'))
        {
            string trimmed = line.TrimStart();
            if (fence is null && (trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal)))
            {
                fence = trimmed[..3];
                yield return "";
            }
            else if (fence is not null)
            {
                if (trimmed.StartsWith(fence, StringComparison.Ordinal))
                {
                    fence = null;
                }

                yield return "";
            }
            else
            {
                yield return line.TrimEnd('\r');
            }
        }
    }

    /// <summary>The ids GitHub gives the document's headings (a repeated one gets -1, -2, ...), and explicit HTML ids.</summary>
    static HashSet<string> Anchors(string markdown)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string line in Prose(markdown))
        {
            if (HeadingPattern().Match(line) is { Success: true } heading)
            {
                string slug = Slug(heading.Groups["text"].Value);
                int count = seen.GetValueOrDefault(slug);
                seen[slug] = count + 1;
                ids.Add(count == 0 ? slug : $"{slug}-{count}");
            }

            foreach (Match html in HtmlIdPattern().Matches(line))
            {
                ids.Add(html.Groups["id"].Value);
            }
        }

        return ids;
    }

    /// <summary>
    /// GitHub's heading id: the heading's text (code marks dropped, a link's text kept), lower-cased, with every
    /// character that is not a letter, a mark, a digit, a connector (such as _), a space or a hyphen removed, and
    /// spaces turned into hyphens.
    /// </summary>
    static string Slug(string heading)
    {
        string text = MarkdownLinkPattern().Replace(heading.Trim().TrimEnd('#').Trim(), "${text}").Replace("`", "", StringComparison.Ordinal).Replace("*", "", StringComparison.Ordinal);
        var slug = new StringBuilder(text.Length);
        foreach (char c in text.ToLowerInvariant())
        {
            var category = char.GetUnicodeCategory(c);
            if (char.IsLetterOrDigit(c) || category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.ConnectorPunctuation || c == '-')
            {
                slug.Append(c);
            }
            else if (c == ' ')
            {
                slug.Append('-');
            }
        }

        return slug.ToString();
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex SchemePattern();

    [GeneratedRegex(@"`+[^`]*`+")]
    private static partial Regex CodeSpanPattern();

    // [text](target "title") and ![alt](<target>); the text may hold one level of brackets (an image inside a link).
    [GeneratedRegex(@"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?(?<target>[^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)")]
    private static partial Regex InlineLinkPattern();

    [GeneratedRegex(@"^\s{0,3}\[[^\]]+\]:\s*<?(?<target>[^\s>]+)>?")]
    private static partial Regex ReferencePattern();

    [GeneratedRegex(@"^\s{0,3}#{1,6}\s+(?<text>.+?)\s*$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\([^)]*\)")]
    private static partial Regex MarkdownLinkPattern();

    [GeneratedRegex(@"<a\s+(?:name|id)=""(?<id>[^""]+)""")]
    private static partial Regex HtmlIdPattern();
}
