using System.Diagnostics;

namespace FunctionsChat.Tests.Runtime;

/// <summary>
/// What the real-runtime scenarios measured (timings, stored sizes), written to TestResults/runtime.txt for CI to print.
/// Printed, never asserted: the machine is shared.
/// </summary>
public static class RuntimeReport
{
    static readonly object Gate = new();

    public static string Path { get; } = System.IO.Path.Combine(RepositoryFiles.Root.FullName, "TestResults", "runtime.txt");

    public static void Line(string line)
    {
        lock (Gate)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            File.AppendAllText(Path, line + Environment.NewLine);
        }
    }

    public static double Milliseconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
