using FunctionsChat.Domain;
using FunctionsChat.Quota;
using FunctionsChat.Sessions;
using FunctionsChat.Telemetry;
using FunctionsChat.Tests.Http;
using FunctionsChat.Tests.Sessions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Tests.Telemetry;

/// <summary>Each caller's use exported as metrics, tagged with the caller's hashed id and never the id itself.</summary>
public class CallerMetricsTests
{
    static readonly string Caller = SessionKeys.OwnerOf(HttpHarness.Key());

    [Fact]
    public async Task Accepted_messages_and_refusals_are_counted_per_hashed_caller_and_by_limit()
    {
        var (telemetry, meters) = TestTelemetry.WithMeters();
        using var messages = new MetricCollector<long>(meters, ChatTelemetry.Name, "chat.caller.messages");
        using var refusals = new MetricCollector<long>(meters, ChatTelemetry.Name, "chat.caller.refusals");
        var http = new HttpHarness { EntityApplies = true, Telemetry = telemetry };
        http.Quota.MessagesPerMinute = 1;

        var accepted = await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "one", "k1"), http.Client.Object, "session123");
        var refused = await http.Messages.SendMessage(HttpHarness.Post("/Chat/other/message/send", "two", "k2"), http.Client.Object, "other");

        Assert.IsType<AcceptedResult>(accepted);
        HttpHarness.Problem(refused, 429, "message-rate-limited");
        var message = Assert.Single(messages.GetMeasurementSnapshot());
        Assert.Equal((1L, Caller), (message.Value, message.Tags[ChatTelemetry.CallerTag]));
        var refusal = Assert.Single(refusals.GetMeasurementSnapshot());
        Assert.Equal((Caller, CallerQuotaRules.MessageRate), (refusal.Tags[ChatTelemetry.CallerTag], refusal.Tags[ChatTelemetry.QuotaLimitTag]));
        Assert.Matches("^[0-9a-f]{32}$", Caller);
    }

    [Fact]
    public void The_wait_for_a_running_turn_slot_is_recorded_per_caller_when_the_grant_starts_the_turn()
    {
        var (telemetry, meters) = TestTelemetry.WithMeters();
        using var waits = new MetricCollector<double>(meters, ChatTelemetry.Name, "chat.caller.slot.wait");
        var clock = new VirtualClock(Domain.Turns.T0);
        var operations = new SessionOperations(Options.Create(new SessionOptions()), clock, telemetry, NullLogger<ChatSession>.Instance, Options.Create(new QuotaOptions { RunningTurns = 1 }));
        var context = new RecordingEntityContext(HttpHarness.Key());

        var asked = operations.Enqueue(ChatSessionState.Empty, Domain.Turns.Request("t1") with { AcceptedAt = clock.GetUtcNow() }, context.Object);
        clock.Advance(TimeSpan.FromSeconds(3));
        var granted = operations.Granted(asked.State!, new SlotGrant(asked.State!.Slot!.Ask), context.Object);

        Assert.NotNull(granted.State!.Active);
        var wait = Assert.Single(waits.GetMeasurementSnapshot());
        Assert.Equal((3.0, Caller), (wait.Value, wait.Tags[ChatTelemetry.CallerTag]));
        Assert.Contains(context.Signals, s => s.Id == CallerQuota.For(Caller) && s.Operation == nameof(CallerQuota.Ask));
    }

    [Fact]
    public async Task With_caller_metrics_off_no_caller_is_exported()
    {
        var (telemetry, meters) = TestTelemetry.WithMeters(callerMetrics: false);
        using var messages = new MetricCollector<long>(meters, ChatTelemetry.Name, "chat.caller.messages");
        var http = new HttpHarness { EntityApplies = true, Telemetry = telemetry };

        await http.Messages.SendMessage(HttpHarness.Post("/Chat/session123/message/send", "one", "k1"), http.Client.Object, "session123");

        Assert.Empty(messages.GetMeasurementSnapshot());
    }
}
