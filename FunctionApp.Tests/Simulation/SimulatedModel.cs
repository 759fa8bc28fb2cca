using FunctionsChat.Domain;
using Microsoft.Extensions.AI;

namespace FunctionsChat.Tests.Simulation;

/// <summary>
/// A model whose answer names the message it answers (<see cref="AnswerTo"/>), so an answer attached to the wrong
/// message is seen; it fails as often as the faults say, and takes its time when told to.
/// </summary>
public sealed class SimulatedModel(Random random, Func<Faults> faults, TimeProvider time) : IChatClient
{
    public int Calls { get; private set; }

    /// <summary>Another model whose answers this one gives (streamed as its own are); faults still apply.</summary>
    public IChatClient? Answerer { get; set; }

    /// <summary>The longest wait before a streamed answer's first piece (each call waits a random part of it); none by default.</summary>
    public TimeSpan FirstPieceLatency { get; set; }

    /// <summary>The wait between two pieces of a streamed answer.</summary>
    public TimeSpan PieceLatency { get; set; }

    /// <summary>Every streamed call, in the order they began: what it was asked, when it began and ended, whether it was closed early.</summary>
    public List<ModelCall> Streamed { get; } = [];

    /// <summary>Runs when a streamed call begins (with the calls still open) and when it ends.</summary>
    public Action<ModelCall>? OnBegin { get; set; }

    public Action<ModelCall>? OnEnd { get; set; }

    /// <summary>How the model ends its answer to a message; <c>stop</c> unless this says otherwise.</summary>
    public Func<string, ChatFinishReason>? FinishFor { get; set; }

    /// <summary>Worst-case answers: each padded to many kilobytes of text the serializer escapes six-fold.</summary>
    public bool LongAnswers { get; set; }

    public static string AnswerTo(string message) => "re " + Fingerprint.Of(message);

    // Half of them just short enough to travel inline, half far too long to.
    static string LongAnswerTo(string message) =>
        AnswerTo(message) + " " + string.Concat(Enumerable.Repeat("<&'\u00e9\u0001", message.Length % 2 == 0 ? 2_000 : 130));

    /// <summary>The answer this model gives to a message.</summary>
    public string Answer(string message) => LongAnswers ? LongAnswerTo(message) : AnswerTo(message);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        var f = faults();
        double roll = random.NextDouble();
        if (roll < f.ModelTransientFailure)
        {
            throw new HttpRequestException("The simulated model is overloaded.", null, System.Net.HttpStatusCode.ServiceUnavailable);
        }

        if (roll < f.ModelTransientFailure + f.ModelPermanentFailure)
        {
            throw new FunctionsChat.Llm.ModelCallException(new ModelFailure(ModelFailure.BadRequest, "The simulated model refused."), null);
        }

        if (Answerer is not null)
        {
            return Answerer.GetResponseAsync(messages, options, cancellationToken);
        }

        string last = messages.Last(m => m.Role == ChatRole.User).Text;
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, Answer(last)))
        {
            ModelId = "sim",
            FinishReason = FinishFor?.Invoke(last) ?? ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = 1, OutputTokenCount = 1 },
        });
    }

    /// <summary>Calls that stream half their answer and then fail as an overloaded model does (a retried attempt follows).</summary>
    public int FailMidStream { get; set; }

    /// <summary>The answer, in pieces of at most <see cref="PieceChars"/> characters, as a model streams it.</summary>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = messages.Select(m => (m.Role.Value, m.Text)).ToList();
        var call = new ModelCall(prompt, time.GetUtcNow());
        Streamed.Add(call);
        OnBegin?.Invoke(call);
        try
        {
            var response = await GetResponseAsync(messages, options, cancellationToken);
            bool fails = FailMidStream > 0 && FailMidStream-- > 0;
            string text = response.Text;
            await WaitAsync(TimeSpan.FromTicks((long)(FirstPieceLatency.Ticks * random.NextDouble())), cancellationToken);
            for (int at = 0; at < text.Length; at += PieceChars)
            {
                if (fails && at >= text.Length / 2)
                {
                    throw new HttpRequestException("The simulated model dropped the stream.", null, System.Net.HttpStatusCode.ServiceUnavailable);
                }

                if (at > 0)
                {
                    await WaitAsync(PieceLatency, cancellationToken);
                }

                yield return new ChatResponseUpdate(ChatRole.Assistant, text.Substring(at, Math.Min(PieceChars, text.Length - at)));
            }

            yield return new ChatResponseUpdate { ModelId = response.ModelId, FinishReason = response.FinishReason, Contents = [new UsageContent(response.Usage!)] };
        }
        finally
        {
            // Ended: answered, failed, or closed by the caller (its token cancelled, or the enumeration left early).
            call.EndedAt = time.GetUtcNow();
            call.Closed = cancellationToken.IsCancellationRequested;
            OnEnd?.Invoke(call);
        }
    }

    Task WaitAsync(TimeSpan delay, CancellationToken cancellation) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, time, cancellation) : Task.CompletedTask;

    /// <summary>The most characters one streamed piece holds.</summary>
    public int PieceChars { get; set; } = 50;

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

/// <summary>One streamed model call: its prompt (role and text of each message), when it began and ended.</summary>
public sealed class ModelCall(IReadOnlyList<(string Role, string Text)> prompt, DateTimeOffset startedAt)
{
    public IReadOnlyList<(string Role, string Text)> Prompt { get; } = prompt;

    /// <summary>The message it answers: the prompt's last user message.</summary>
    public string Message => Prompt.Last(m => m.Role == "user").Text;

    public DateTimeOffset StartedAt { get; } = startedAt;

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Its caller closed it before it was done.</summary>
    public bool Closed { get; set; }
}
