using System.Diagnostics;
using System.Text.Json;
using FunctionsChat.Archive;
using FunctionsChat.Domain;
using FunctionsChat.Http;
using FunctionsChat.Llm;
using FunctionsChat.Telemetry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Turns;

/// <summary>
/// The model call: the only I/O of a turn. Its failures leave as <see cref="ModelCallException"/> so the
/// orchestration's retry handler sees them; nothing here retries.
/// </summary>
public sealed class GenerateReply(IChatClient chat, ContextAssembler context, ITranscriptArchive archive, ITurnStreams streams, TimeProvider clock, IOptions<LlmOptions> options, ChatTelemetry telemetry, SummarizeConversation? summaries = null, TurnNotices? notices = null, IOptions<FunctionsChat.Quota.QuotaOptions>? quota = null, ContextFitter? fitter = null)
{
    [Function(nameof(GenerateReply))]
    public async Task<ModelReply> Run([ActivityTrigger] ReplyRequest request, [DurableClient] DurableTaskClient? client, CancellationToken cancellation)
    {
        var llm = options.Value;
        string requestModel = llm.Model ?? OfflineChatClient.ModelId;
        using var span = ChatTelemetry.Start($"chat {requestModel}", ActivityKind.Client, request.TraceParent, request.SessionId, request.TurnId);
        span?.SetTag("gen_ai.operation.name", "chat");
        span?.SetTag("gen_ai.provider.name", ProviderName(llm.Provider));
        span?.SetTag("gen_ai.request.model", requestModel);
        var watch = Stopwatch.StartNew();
        await using var session = TurnWatch.For(client, streams, request, clock);
        if (session is not null && !await session.BeginAsync(cancellation))
        {
            // The session stopped the turn (or gave it up) before its model call began: none begins.
            span?.SetTag("chat.stopped", true);
            return new ModelReply("", requestModel, new TokenUsage(0, 0), null) { Stopped = true };
        }

        // The summary step, when the turn asks for it here: its outcome travels with the answer.
        var (summary, assembled) = request.SummarizeFirst && summaries is not null ? await summaries.BeforeAnswerAsync(request, session?.Stopped ?? CancellationToken.None, cancellation) : default;
        request = summary?.SummaryThrough is { } through ? request with { SummaryThrough = through } : request;
        var reply = await AnswerAsync(client, request, requestModel, session, span, watch, assembled, cancellation) with { SummaryThrough = summary?.SummaryThrough, Warning = summary?.Warning, SummaryTokens = summary?.SummaryTokens ?? 0 };
        await ReportAsync(client, request, reply, cancellation);
        if (request.SessionKey is { } reported)
        {
            notices?.Answered(reported, request.TurnId);
        }

        return reply;
    }

    /// <summary>
    /// Tells the session the turn's answer straight away, a client signal from here rather than the orchestration's
    /// call one queue hop later, so a caller waiting on the session sees it sooner. The orchestration's call still
    /// follows (the session takes the first, the second is a duplicate), so a signal that fails changes nothing.
    /// </summary>
    async Task ReportAsync(DurableTaskClient? client, ReplyRequest request, ModelReply reply, CancellationToken cancellation)
    {
        if (client is not null && request is { SessionKey: { } key, Run: not null, MessageHash: not null })
        {
            await SessionStore.TrySignalAsync(client, key, nameof(Sessions.ChatSession.Complete), TurnReports.Completion(request, reply, clock.GetUtcNow(), null), cancellation);
            long used = reply.Usage.InputTokens + reply.Usage.OutputTokens;
            telemetry.CallerTokens(SessionKeys.OwnerOf(key), used + reply.SummaryTokens);
            if (quota?.Value.TokensPerPeriod > 0)
            {
                await Task.WhenAll(
                    FunctionsChat.Quota.QuotaStore.ChargeAsync(client, key, Charge(reply, used), cancellation),
                    FunctionsChat.Quota.QuotaStore.ChargeAsync(client, key, new TokenCharge(reply.SummaryTokens, clock.GetUtcNow()), cancellation));
            }
        }
    }

    /// <summary>
    /// What the caller's token budget is charged for the answer's call, replacing the estimate charged as it began: what
    /// the model reported; for a call stopped before it reported, the estimate and the tokenizer's count of what it had
    /// said; nothing more when the model reported no usage (the estimate stands). An attempt run again is charged again.
    /// </summary>
    TokenCharge Charge(ModelReply reply, long used)
    {
        var now = clock.GetUtcNow();
        return reply.Estimate switch
        {
            null => new(used, now),
            { } estimate when reply.Stopped => new(estimate.Tokens + (fitter?.Count(ChatRole.Assistant.Value, reply.Text) ?? 0), now) { Call = estimate.Call },
            { } when used == 0 => new(0, now),
            { } estimate => new(used, now) { Call = estimate.Call },
        };
    }

    /// <summary>
    /// Charges the caller's token budget the prompt's tokens, as the tokenizer counts them, as the model is called: a
    /// running turn counts against the budget until the model reports its usage. Null when no budget is set.
    /// </summary>
    async Task<TokenCharge?> ChargeEstimateAsync(DurableTaskClient? client, ReplyRequest request, IReadOnlyList<ChatMessage> prompt, CancellationToken cancellation)
    {
        if (client is null || fitter is null || quota?.Value.TokensPerPeriod is not > 0 || request.SessionKey is not { } key)
        {
            return null;
        }

        var estimate = new TokenCharge(fitter.Count(prompt), clock.GetUtcNow()) { Call = Guid.NewGuid().ToString("N"), Estimate = true };
        await FunctionsChat.Quota.QuotaStore.ChargeAsync(client, key, estimate, cancellation);
        return estimate;
    }

    /// <param name="assembled">The prompt the summary step assembled for this request and left as it was, if it did.</param>
    async Task<ModelReply> AnswerAsync(DurableTaskClient? client, ReplyRequest request, string requestModel, TurnWatch? session, Activity? span, Stopwatch watch, AssembledContext? assembled, CancellationToken cancellation)
    {
        var llm = options.Value;

        IReadOnlyList<ChatMessage> prompt;
        ChatResponse response;
        ModelReply reply;
        try
        {
            ContextReport report;
            (prompt, report) = assembled is { } ready ? (ready.Prompt, ready.Report) : await context.AssembleAsync(llm.SystemPrompt, request, llm.ContextTokenBudget, cancellation);
            span?.SetTag("chat.context.messages", prompt.Count);
            span?.SetTag("chat.context.archived_turns", report.ArchivedTurns);
            span?.SetTag("chat.context.archive_reads", report.ArchiveReads);
            span?.SetTag("chat.context.summary_through", report.SummaryThrough);
            if (report.ArchiveError is { } unavailable)
            {
                span?.AddEvent(new ActivityEvent("chat.context.archive_unavailable", tags: new ActivityTagsCollection { ["error.message"] = unavailable }));
            }

            if (telemetry.RecordMessageText)
            {
                span?.SetTag("gen_ai.input.messages", JsonSerializer.Serialize(prompt.Select(m => new { role = m.Role.Value, content = m.Text })));
            }

            // The estimate's signal goes out while the model is called, not before it.
            var estimating = ChargeEstimateAsync(client, request, prompt, cancellation);
            var writer = request.SessionKey is { } key ? new TurnStreamWriter(streams, clock, key, StreamKeys.Of(request.AcceptedAt, request.TurnId), session is null ? null : () => session.Events) : null;
            var streamed = await StreamAsync(prompt, new ChatOptions { MaxOutputTokens = llm.MaxOutputTokens }, writer, session?.Stopped ?? CancellationToken.None, cancellation);
            span?.SetTag("chat.stream.chunks", writer?.Chunks);
            if (streamed is not { } whole)
            {
                // Stopped by the session: the answer is what this attempt had streamed, every chunk of it appended.
                span?.SetTag("chat.stopped", true);
                telemetry.ModelCall(watch.Elapsed, requestModel, null, 0, 0, null);
                return await StoreAsync(request, new ModelReply(writer?.Text ?? "", requestModel, new TokenUsage(0, 0), null) { Attempt = writer?.Attempt, Stopped = true, Estimate = await estimating }, cancellation);
            }

            response = whole;
            if (response.FinishReason == ChatFinishReason.ContentFilter)
            {
                // Azure's output filter answers 200 with the answer withheld: a refusal, not an (empty) answer.
                throw new ModelCallException(new(ModelFailure.ContentFiltered, "The answer was withheld by the content filter."));
            }

            string model = PayloadBudget.Clip(response.ModelId ?? requestModel, PayloadBudget.NoteBytes);
            var tokens = new TokenUsage(response.Usage?.InputTokenCount ?? 0, response.Usage?.OutputTokenCount ?? 0);
            // The answer is exactly what this attempt streamed.
            reply = await StoreAsync(request, new ModelReply(writer?.Text ?? response.Text, model, tokens, response.FinishReason?.Value) { Attempt = writer?.Attempt, Estimate = await estimating }, cancellation);
        }
        catch (Exception exception) when (ModelErrorClassifier.Classify(exception, cancellation) is { } failure)
        {
            telemetry.ModelCall(watch.Elapsed, requestModel, null, 0, 0, failure.Code);
            span?.SetTag("error.type", failure.Code);
            ChatTelemetry.Fail(span, failure.Code, failure.Message);
            throw exception as ModelCallException ?? new ModelCallException(failure, exception);
        }

        var usage = reply.Usage;
        span?.SetTag("gen_ai.response.model", reply.Model);
        span?.SetTag("gen_ai.usage.input_tokens", usage.InputTokens);
        span?.SetTag("gen_ai.usage.output_tokens", usage.OutputTokens);
        span?.SetTag("gen_ai.response.finish_reasons", reply.FinishReason is null ? Array.Empty<string>() : new[] { reply.FinishReason });
        if (telemetry.RecordMessageText)
        {
            span?.SetTag("gen_ai.output.messages", JsonSerializer.Serialize(new[] { new { role = "assistant", content = response.Text } }));
        }

        telemetry.ModelCall(watch.Elapsed, requestModel, reply.Model, usage.InputTokens, usage.OutputTokens, null);
        return reply;
    }

    /// <summary>
    /// Asks the model with streaming on, appending the answer to the turn's stream as it comes (batched by the
    /// writer), and returns the whole response; null when <paramref name="stop"/> fired first: the model request is
    /// closed there and then (its enumeration cancelled, and left at the next piece at the latest), and what came
    /// before is appended as the attempt's last chunk. A failure leaves this attempt's stream unfinished; a retried
    /// attempt writes a stream of its own.
    /// </summary>
    async Task<ChatResponse?> StreamAsync(IReadOnlyList<ChatMessage> prompt, ChatOptions chatOptions, TurnStreamWriter? writer, CancellationToken stop, CancellationToken cancellation)
    {
        var updates = new List<ChatResponseUpdate>();
        using var model = CancellationTokenSource.CreateLinkedTokenSource(cancellation, stop);
        try
        {
            await foreach (var update in chat.GetStreamingResponseAsync(prompt, chatOptions, model.Token))
            {
                updates.Add(update);
                if (writer is not null)
                {
                    await writer.AddAsync(update.Text, cancellation);
                }

                if (stop.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            // The request was closed because the session stopped the turn, not because it failed.
        }

        if (writer is not null)
        {
            await writer.CompleteAsync(cancellation);
        }

        return stop.IsCancellationRequested ? null : updates.ToChatResponse();
    }

    /// <summary>
    /// Stores the answer whole in the session's table (keyed by its fingerprint, so a retried attempt's different
    /// answer never overwrites the one reported) and carries it inline only when short: the reply is a durable payload.
    /// </summary>
    async Task<ModelReply> StoreAsync(ReplyRequest request, ModelReply reply, CancellationToken cancellation)
    {
        if (request.SessionKey is not { } key || (reply.Stopped && reply.Text.Length == 0))
        {
            return reply;
        }

        string textRef = TextKeys.Answer(request.AcceptedAt, Fingerprint.Of(reply.Text));
        await archive.WriteTextAsync(key, textRef, reply.Text, cancellation);
        return reply with { Text = StoredText.Inline(reply.Text), TextRef = textRef };
    }

    static string ProviderName(LlmProvider provider) => provider switch
    {
        LlmProvider.AzureOpenAI => "azure.ai.openai",
        LlmProvider.OpenAI => "openai",
        _ => "functionschat.offline",
    };
}
