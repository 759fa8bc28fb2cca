namespace FunctionsChat.Tests.Simulation;

/// <summary>
/// The simulation's clock and its only thread of control: timers fire when the simulation reaches their time, and
/// every continuation they release is queued here and run by <see cref="Pump"/>, so a run depends on its seed alone.
/// </summary>
public sealed class SimulatedTime(DateTimeOffset start) : TimeProvider
{
    readonly List<(DateTimeOffset At, long Order, Action Fire)> timers = [];
    readonly Loop loop = new();
    long order;

    public DateTimeOffset Now { get; private set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    /// <summary>When the next timer of an HTTP function is due, if any.</summary>
    public DateTimeOffset? NextTimer => timers.Count == 0 ? null : timers.Min(t => t.At);

    /// <summary>Moves the clock to <paramref name="at"/>, firing each timer due on the way at its own time.</summary>
    public void AdvanceTo(DateTimeOffset at)
    {
        while (timers.Where(t => t.At <= at).OrderBy(t => t.At).ThenBy(t => t.Order).FirstOrDefault() is { Fire: not null } due)
        {
            timers.Remove(due);
            if (due.At > Now)
            {
                Now = due.At;
            }

            due.Fire();
            Pump();
        }

        if (at > Now)
        {
            Now = at;
        }
    }

    /// <summary>Runs <paramref name="work"/> with this simulation's synchronization context, then everything it released.</summary>
    public T Run<T>(Func<T> work)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(loop);
        try
        {
            var result = work();
            Pump();
            return result;
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    public void Pump()
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(loop);
        try
        {
            loop.Drain();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            timer.Entry = (Now + dueTime, order++, () => callback(state));
            timers.Add(timer.Entry.Value);
        }

        return timer;
    }

    sealed class Timer(SimulatedTime time) : ITimer
    {
        public (DateTimeOffset At, long Order, Action Fire)? Entry { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period) => false;

        public void Dispose()
        {
            if (Entry is { } entry)
            {
                time.timers.Remove(entry);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }

    sealed class Loop : SynchronizationContext
    {
        readonly Queue<(SendOrPostCallback Callback, object? State)> queue = new();

        public override void Post(SendOrPostCallback d, object? state) => queue.Enqueue((d, state));

        public override void Send(SendOrPostCallback d, object? state) => d(state);

        public void Drain()
        {
            while (queue.TryDequeue(out var work))
            {
                work.Callback(work.State);
            }
        }
    }
}
