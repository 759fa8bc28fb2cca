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
}
