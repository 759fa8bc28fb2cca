using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Running;
using FunctionsChat.Benchmarks;

// Sizes first: what the entity stores for each transcript length, against the Azure Storage backend's
// large-message threshold (payloads over about 45 KB go through the <taskhub>-largemessages blob container).
Console.WriteLine("| turns | bounded state (bytes) | unbounded state (bytes) | bounded under 45,000 |");
Console.WriteLine("| ---: | ---: | ---: | :---: |");
foreach (int turns in new[] { 10, 100, 1_000, 10_000 })
{
    int bounded = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(Sessions.Build(turns, true), Sessions.WorkerJson));
    int unbounded = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(Sessions.Build(turns, false), Sessions.WorkerJson));
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
Console.WriteLine("| turns | largest durable payload, worst-case inputs (bytes) | which | under 45,000 |");
Console.WriteLine("| ---: | ---: | :--- | :---: |");
foreach (int turns in new[] { 10, 100, 1_000, 10_000 })
{
    var (bytes, what) = Payloads.Largest(turns);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {turns:N0} | {bytes:N0} | {what} | {(bytes <= FunctionsChat.Domain.PayloadBudget.MaxBytes ? "yes" : "NO")} |"));
}

Console.WriteLine();
BenchmarkSwitcher.FromAssembly(typeof(EntityRoundTrip).Assembly).Run(args);
