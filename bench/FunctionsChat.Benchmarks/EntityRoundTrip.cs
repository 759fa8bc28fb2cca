using System.Text.Json;
using BenchmarkDotNet.Attributes;
using FunctionsChat.Domain;

namespace FunctionsChat.Benchmarks;

/// <summary>
/// One entity operation as the Durable worker runs it: deserialize the stored state, apply the operation
/// (Complete the running turn), serialize the new state. Bounded keeps a working set and archives the rest;
/// unbounded keeps the whole transcript in state, like a single state key holding every message.
/// </summary>
[MemoryDiagnoser]
public class EntityRoundTrip
{
    string stored = "";
    TurnCompletion completion = null!;
    SessionLimits limits = null!;

    [Params(10, 100, 1_000, 10_000)]
    public int Turns { get; set; }

    [Params(true, false)]
    public bool Bounded { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var state = Sessions.Build(Turns, Bounded);
        stored = JsonSerializer.Serialize(state, Sessions.WorkerJson);
        completion = new TurnCompletion(state.Active!.Turn.TurnId, Sessions.Answer(Turns + 1), "gpt-4o-mini-2024-07-18", new TokenUsage(1000, 180), Sessions.Start.AddDays(1));
        limits = Sessions.Limits(Bounded);
    }

    [Benchmark]
    public int CompleteTurn()
    {
        var state = JsonSerializer.Deserialize<ChatSessionState>(stored, Sessions.WorkerJson)!;
        var next = SessionTransitions.Complete(state, completion, Sessions.Start.AddDays(1), limits);
        return JsonSerializer.Serialize(next.State, Sessions.WorkerJson).Length;
    }
}
