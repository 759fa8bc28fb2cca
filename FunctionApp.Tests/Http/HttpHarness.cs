using System.Text;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using FunctionsChat.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Entities;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Options;
using Moq;

namespace FunctionsChat.Tests.Http;

/// <summary>Virtual time: every delay passes at once and is recorded, so back-off is asserted exactly.</summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; private set; } = start;

    public List<TimeSpan> Delays { get; } = [];

    public override DateTimeOffset GetUtcNow() => Now;

    /// <summary>Time passes outside any wait of the code under test.</summary>
    public void Advance(TimeSpan by) => Now += by;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Delays.Add(dueTime);
        Now += dueTime;
        ThreadPool.QueueUserWorkItem(_ => callback(state));
        return new Fired();
    }

    sealed class Fired : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => false;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A mocked Durable client over one in-memory session state, recording every signal it is sent.</summary>
public sealed class HttpHarness
{
    public static readonly DateTimeOffset Start = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    public Mock<DurableTaskClient> Client { get; } = new(MockBehavior.Strict, "test");

    public Mock<DurableEntityClient> Entities { get; } = new(MockBehavior.Strict, "test");

    public VirtualClock Clock { get; } = new(Start);

    public ApiOptions Api { get; } = new();

    /// <summary>Entity state by entity id: what the Durable client reads.</summary>
    public Dictionary<EntityInstanceId, ChatSessionState> Store { get; } = [];

    /// <summary>The state of the anonymous caller's session123.</summary>
    public ChatSessionState? State
    {
        get => Store.GetValueOrDefault(SessionEntityIds.For(Key()));
        set
        {
            if (value is null)
            {
                Store.Remove(SessionEntityIds.For(Key()));
            }
            else
            {
                Store[SessionEntityIds.For(Key())] = value;
            }
        }
    }

    public List<(EntityInstanceId Id, string Operation, object? Input)> Signals { get; } = [];

    public List<EntityInstanceId> Reads { get; } = [];

    /// <summary>Runs after every read: lets a test play the session moving on between looks.</summary>
    public Action<int>? AfterRead { get; set; }

    /// <summary>Applies signals to <see cref="State"/> the way the entity would, when set.</summary>
    public bool EntityApplies { get; set; }

    /// <summary>The orchestration instances the functions terminated, in order.</summary>
    public List<string> Terminated { get; } = [];

    public HttpHarness()
    {
        Client.SetupGet(c => c.Entities).Returns(Entities.Object);
        Client.Setup(c => c.TerminateInstanceAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Callback<string, CancellationToken>((id, _) => Terminated.Add(id))
            .Returns(Task.CompletedTask);
        Entities.Setup(e => e.GetEntityAsync<ChatSessionState>(It.IsAny<EntityInstanceId>(), true, It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, bool, CancellationToken>((id, _, _) =>
            {
                Reads.Add(id);
                var state = Store.GetValueOrDefault(id);
                AfterRead?.Invoke(Reads.Count);
                return Task.FromResult(state is null ? null : new EntityMetadata<ChatSessionState>(id, state));
            });
        Entities.Setup(e => e.GetEntityAsync<CallerUsage>(It.IsAny<EntityInstanceId>(), true, It.IsAny<CancellationToken>()))
            .Returns<EntityInstanceId, bool, CancellationToken>((id, _, _) =>
                Task.FromResult(Usages.GetValueOrDefault(id) is { } usage ? new EntityMetadata<CallerUsage>(id, usage) : null));
        Entities.Setup(e => e.SignalEntityAsync(It.IsAny<EntityInstanceId>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<SignalEntityOptions?>(), It.IsAny<CancellationToken>()))
            .Callback<EntityInstanceId, string, object?, SignalEntityOptions?, CancellationToken>((id, op, input, _, _) =>
            {
                Signals.Add((id, op, input));
                var stored = Store.GetValueOrDefault(id) ?? ChatSessionState.Empty;
                var applied = !EntityApplies ? null : input switch
                {
                    TurnRequest request when op == "Enqueue" => SessionTransitions.Enqueue(stored, request, Clock.GetUtcNow(), Session.Limits).State,
                    BranchSwitch to when op == "SwitchBranch" => SessionTransitions.SwitchBranch(stored, to, Clock.GetUtcNow(), Session.Limits).State,
                    ForkSeed seed when op == "Adopt" => SessionTransitions.Adopt(stored, seed, Clock.GetUtcNow(), Session.Limits).State,
                    _ => null,
                };
                if (EntityApplies && input is DateTimeOffset at && op == "Accepted")
                {
                    Usages[id] = CallerQuotaRules.Accepted(Usages.GetValueOrDefault(id) ?? new CallerUsage(), at, Quota.Limits);
                }

                if (applied is not null)
                {
                    Store[id] = applied;
                }
            })
            .Returns(Task.CompletedTask);
    }

    public AuthOptions Auth { get; } = new();

    public IServiceProvider? RequestServices { get; set; }

    public CallerResolver Callers => new(Options.Create(Auth));

    public MessageFunctions Messages => new(Admission, Options.Create(Api), Callers, Events(Clock));

    public MessageAdmission Admission => new(new TurnWaiter(Options.Create(Api), Clock, Archive), Options.Create(Session), Options.Create(Api), Clock, Archive, Events(Clock), Options.Create(Quota), Telemetry);

    /// <summary>The telemetry the API records to (none unless a test gives one).</summary>
    public FunctionsChat.Telemetry.ChatTelemetry? Telemetry { get; set; }

    /// <summary>The per-caller limits the API enforces (all off unless a test sets them).</summary>
    public FunctionsChat.Quota.QuotaOptions Quota { get; } = new();

    /// <summary>Callers' quota states, by entity id.</summary>
    public Dictionary<EntityInstanceId, CallerUsage> Usages { get; } = [];

    public BranchFunctions Branches => new(Admission, Callers, Archive, new TurnWaiter(Options.Create(Api), Clock, Archive), Options.Create(Api), Options.Create(Session), Clock);

    /// <summary>The session options the API judges admission by (the session's own limits).</summary>
    public FunctionsChat.Sessions.SessionOptions Session { get; } = new();

    /// <summary>Turn event responses over this harness's store, open-stream count and options.</summary>
    public EventResponses Events(TimeProvider clock) => new(Archive, Archive, clock, Streams, Options.Create(Api));

    /// <summary>The open event streams, shared by everything this harness serves.</summary>
    public StreamLimiter Streams { get; } = new();

    public SessionFunctions Sessions => new(Options.Create(Api), Callers, new TurnWaiter(Options.Create(Api), Clock, Archive), Clock);

    public TurnFunctions Turns => new(Callers, Archive, new TurnWaiter(Options.Create(Api), Clock, Archive), Options.Create(Api), Clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<TurnFunctions>.Instance);

    public InMemoryArchive Archive { get; } = new();

    public HistoryFunctions History => new(Archive, Callers);

    /// <summary>The entity key of a session of the anonymous caller (Auth mode None), or of the given caller.</summary>
    public static string Key(string sessionId = "session123", string caller = CallerResolver.AnonymousCaller) => SessionKeys.For(caller, sessionId);

    static readonly IServiceProvider EmptyServices = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(new Microsoft.Extensions.DependencyInjection.ServiceCollection());

    public static HttpRequest Request(string method, string path, string? body = null, string? contentType = "application/json", string? idempotencyKey = null, CancellationToken aborted = default)
    {
        var context = new DefaultHttpContext { RequestAborted = aborted, RequestServices = EmptyServices };
        context.Request.Method = method;
        context.Request.Path = path;
        if (body is not null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(body);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentLength = bytes.Length;
        }

        if (contentType is not null)
        {
            context.Request.ContentType = contentType;
        }

        if (idempotencyKey is not null)
        {
            context.Request.Headers["Idempotency-Key"] = idempotencyKey;
        }

        return context.Request;
    }

    public static HttpRequest Post(string path, string message, string? idempotencyKey = null, CancellationToken aborted = default) =>
        Request("POST", path, $"{{\"message\":\"{message}\"}}", idempotencyKey: idempotencyKey, aborted: aborted);

    public static ProblemDetails Problem(IActionResult result, int status, string type)
    {
        var objectResult = Assert.IsType<ObjectResult>(result);
        Assert.Equal(status, objectResult.StatusCode);
        Assert.Contains("application/problem+json", objectResult.ContentTypes);
        var problem = Assert.IsType<ProblemDetails>(objectResult.Value);
        Assert.Equal(status, problem.Status);
        Assert.Equal("urn:functionschat:problem:" + type, problem.Type);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
        return problem;
    }

    /// <summary>A session in which t1 completed, t2 runs and t3 waits.</summary>
    public static ChatSessionState BusySession()
    {
        var limits = SessionLimits.Default;
        var state = ChatSessionState.Empty;
        foreach (var id in new[] { "t1", "t2", "t3" })
        {
            state = SessionTransitions.Enqueue(state, new TurnRequest("session123", id, "message " + id, Start), Start, limits).State;
        }

        return SessionTransitions.Complete(state, new TurnCompletion("t1", "answer t1", "gpt-test", new TokenUsage(3, 4), Start.AddSeconds(1)), Start.AddSeconds(1), limits).State;
    }

    public void Complete(string turnId, string answer) =>
        State = SessionTransitions.Complete(State!, new TurnCompletion(turnId, answer, "gpt-test", new TokenUsage(10, 2), Clock.GetUtcNow()), Clock.GetUtcNow(), SessionLimits.Default).State;

    public void Fail(string turnId, string code) =>
        State = SessionTransitions.Fail(State!, new TurnFailure(turnId, code, "went wrong", Clock.GetUtcNow()), Clock.GetUtcNow(), SessionLimits.Default).State;
}
