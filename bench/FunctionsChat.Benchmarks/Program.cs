using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Running;
using FunctionsChat.Benchmarks;

// Sizes first, in the form the Azure Storage backend stores them (PayloadBudget.Bytes: UTF-16, escaped again), against
// the app's bound under the backend's large-message threshold (a table value over 60 KiB goes to blobs).
Console.WriteLine("| turns | bounded state (stored bytes) | unbounded state (stored bytes) | bounded under 56,000 |");
Console.WriteLine("| ---: | ---: | ---: | :---: |");
foreach (int turns in new[] { 10, 100, 1_000, 10_000 })
{
    int bounded = FunctionsChat.Domain.PayloadBudget.Bytes(Sessions.Build(turns, true));
    int unbounded = FunctionsChat.Domain.PayloadBudget.Bytes(Sessions.Build(turns, false));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {turns:N0} | {bounded:N0} | {unbounded:N0} | {(bounded <= FunctionsChat.Domain.PayloadBudget.MaxBytes ? "yes" : "NO")} |"));
}

Console.WriteLine();
Console.WriteLine("| turns | archive reads for the next prompt | turns the model is shown (100,000-token budget, 3 KB answers) |");
Console.WriteLine("| ---: | ---: | ---: |");
foreach (int turns in new[] { 10, 100, 1_000, 10_000 })
{
    var (reads, shown) = await PromptAssembly.ArchiveReads(turns);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {turns:N0} | {reads} | {shown} |"));
}

Console.WriteLine();
Console.WriteLine("| turns | largest durable payload, worst-case inputs (stored bytes) | which | under 56,000 |");
Console.WriteLine("| ---: | ---: | :--- | :---: |");
foreach (int turns in new[] { 10, 100, 1_000, 10_000 })
{
    var (bytes, what) = Payloads.Largest(turns);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {turns:N0} | {bytes:N0} | {what} | {(bytes <= FunctionsChat.Domain.PayloadBudget.MaxBytes ? "yes" : "NO")} |"));
}

Console.WriteLine();
BenchmarkSwitcher.FromAssembly(typeof(EntityRoundTrip).Assembly).Run(args);
