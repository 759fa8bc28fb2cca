#if FUNCTIONSCHAT_SURFACE
using Microsoft.DurableTask.Entities;

namespace FunctionsChat.Tests.Surface;

public class SurfaceMatchesRealApiTests
{
    [RealApiFact]
    public void Every_public_line_of_the_surface_is_in_the_real_listing_of_its_assembly()
    {
        var listings = RepositoryFiles.RealApi.GetFiles("*.txt")
            .Select(f => (File: f.Name, Lines: File.ReadAllLines(f.FullName).ToHashSet(StringComparer.Ordinal)))
            .ToList();
        Assert.True(listings.Count >= 9, $"Expected the real packages' listings in {RepositoryFiles.RealApi.FullName}.");
        var newer = NewerThanListed.Lines();

        var missing = new List<string>();
        foreach (var group in ApiListing.Lines(typeof(ITaskEntity).Assembly).GroupBy(l => l.Type))
        {
            string typeLine = group.First().Line;
            var home = listings.FirstOrDefault(l => l.Lines.Contains(typeLine));
            if (home.Lines is null && !newer.Contains(typeLine))
            {
                missing.Add($"{typeLine}    (type line in no listing)");
                continue;
            }

            missing.AddRange(group.Skip(1)
                .Where(l => home.Lines?.Contains(l.Line) != true && !newer.Contains(l.Line))
                .Select(l => $"{l.Line}    (not in {home.File ?? "NEWER-THAN-LISTED.md"})"));
        }

        Assert.True(missing.Count == 0, "Surface lines not found in the real API:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Listing_writer_reproduces_lines_of_the_real_listing_format()
    {
        var lines = ApiListing.Lines(typeof(ITaskEntity).Assembly).Select(l => l.Line).ToHashSet();

        Assert.Contains("T Microsoft.DurableTask.Entities.EntityInstanceId [sealed class] : System.IEquatable<Microsoft.DurableTask.Entities.EntityInstanceId>", lines);
        Assert.Contains("  M Microsoft.DurableTask.Client.Entities.DurableEntityClient.GetEntityAsync<T>(Microsoft.DurableTask.Entities.EntityInstanceId id, System.Boolean includeState = true, System.Threading.CancellationToken cancellation = null) : System.Threading.Tasks.Task<Microsoft.DurableTask.Client.Entities.EntityMetadata<T>> [public abstract]", lines);
        Assert.Contains("  F Microsoft.Azure.Functions.Worker.AuthorizationLevel.Function : Microsoft.Azure.Functions.Worker.AuthorizationLevel = 2 [static]", lines);
        Assert.Contains("  P Microsoft.DurableTask.Entities.SignalEntityOptions.SignalTime : System.DateTimeOffset? { get; init; } [public]", lines);
    }

    [Theory]
    [InlineData(false, null, true)]
    [InlineData(false, "false", true)]
    [InlineData(false, "true", false)]
    [InlineData(true, null, false)]
    [InlineData(true, "true", false)]
    public void The_listing_check_skips_in_a_bare_clone_and_runs_under_CI(bool listingsExist, string? ci, bool skipped)
    {
        string? reason = RealApiFactAttribute.SkipReason("/nowhere/real-api", listingsExist, ci);

        Assert.Equal(skipped, reason is not null);
        Assert.True(reason is null || reason.Contains("/nowhere/real-api", StringComparison.Ordinal));
    }
}
#endif
