using FunctionsChat.Archive;
using FunctionsChat.Auth;
using FunctionsChat.Domain;
using FunctionsChat.Sessions;
using FunctionsChat.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FunctionsChat.Http;

/// <summary>
/// A conversation that branches (<see cref="Branches"/>): regenerate a turn or edit its message, each a new variant
/// that takes the old one's place in what the model sees; follow another branch; fork a session into a new one.
/// </summary>
public sealed class BranchFunctions(MessageAdmission admission, CallerResolver callers, ITranscriptArchive archive, TurnWaiter waiter, IOptions<ApiOptions> options, IOptions<SessionOptions> sessions, TimeProvider clock)
{
    [Function(nameof(RegenerateTurn))]
    public Task<IActionResult> RegenerateTurn(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ChatRoutes.Regenerate)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId,
        string turnId) =>
        HttpSpan.TraceAsync(nameof(RegenerateTurn), sessionId, () => VariantAsync(request, client, sessionId, turnId, edit: false));

    [Function(nameof(EditTurn))]
    public Task<IActionResult> EditTurn(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ChatRoutes.Edit)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId,
        string turnId) =>
        HttpSpan.TraceAsync(nameof(EditTurn), sessionId, () => VariantAsync(request, client, sessionId, turnId, edit: true));

    [Function(nameof(SwitchBranch))]
    public Task<IActionResult> SwitchBranch(
        [HttpTrigger(AuthorizationLevel.Function, "put", Route = ChatRoutes.Branch)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId) =>
        HttpSpan.TraceAsync(nameof(SwitchBranch), sessionId, () => SwitchAsync(request, client, sessionId));

    [Function(nameof(ForkSession))]
    public Task<IActionResult> ForkSession(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ChatRoutes.Fork)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        string sessionId) =>
        HttpSpan.TraceAsync(nameof(ForkSession), sessionId, () => ForkAsync(request, client, sessionId));

    /// <summary>
    /// A new variant of a finished turn of the branch followed: the same message again (regenerate) or a new one
    /// (edit). It is admitted like any message (its strategy, its Idempotency-Key, 202 with its Location) and, once the
    /// session takes it, follows the turns the old one followed; the old one and the turns after it stay on their branch.
    /// </summary>
    async Task<IActionResult> VariantAsync(HttpRequest request, DurableTaskClient client, string sessionId, string turnId, bool edit)
    {
        var (key, badKey) = MessageAdmission.IdempotencyKey(request);
        if (badKey is not null)
        {
            return badKey.ToResult(request);
        }

        bool hasBody = edit || request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0;
        if (hasBody && !MessageInput.IsJson(request.ContentType))
        {
            return ApiProblem.UnsupportedMediaType(request.ContentType).ToResult(request);
        }

        int maxMessageBytes = options.Value.MaxMessageBytes;
        var (body, unread) = await BodyAsync(request, edit ? MessageInput.MaxBodyBytes(maxMessageBytes) : BranchInput.MaxBodyBytes);
        if (unread is not null)
        {
            return unread;
        }

        string? message = null;
        MultitaskStrategy? strategy;
        bool later;
        ApiProblem? problem;
        if (edit)
        {
            (message, strategy, problem) = MessageInput.Parse(body, maxMessageBytes);
            (later, var badLater) = problem is null ? BranchInput.Later(body) : (false, null);
            problem ??= badLater;
        }
        else
        {
            (later, strategy, problem) = BranchInput.Options(body);
        }

        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        var (found, state, sessionKey, missing) = await FindAsync(request, client, sessionId, turnId);
        if (missing is not null)
        {
            return missing.ToResult(request);
        }

        // A retry (its key already taken, or stored) is the same turn, whatever the conversation has become since.
        var cancellation = request.HttpContext.RequestAborted;
        bool retry = key is not null && (SessionQueries.FindOutcome(state!, key) is not null || await archive.ReadRequestAsync(sessionKey!, key, cancellation) is not null);
        try
        {
            if (!retry && await RefusalAsync(state!, sessionKey!, found!, turnId, edit, later, cancellation) is { } refused)
            {
                return refused.ToResult(request);
            }
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            return SessionStore.Unavailable(request, sessionId);
        }

        var of = found!.Finished!;
        var turn = admission.NewTurn(sessionId, key, message ?? of.Message, strategy) with
        {
            VariantOf = new VariantRequest(of.TurnId, of.Sequence, Branches.ParentOf(of), of.Branch) { Edit = edit, Later = later || edit },
        };
        return await admission.AdmitAsync(request, client, sessionKey!, turn, message ?? of.Message, untilFinished: false, stream: null);
    }

    /// <summary>
    /// The turn a branch request names: by its id, as a turn's status is read; or, for a turn archived before the
    /// session's window of known ids, by the sequence the history gives it (<c>?sequence=</c>), checked against its id.
    /// </summary>
    async Task<(TurnView? Turn, ChatSessionState? State, string? SessionKey, ApiProblem? Problem)> FindAsync(HttpRequest request, DurableTaskClient client, string sessionId, string turnId)
    {
        var found = await TurnLookup.FindWithStateAsync(request, client, callers, archive, clock, sessionId, turnId);
        if (found.Problem?.Type.EndsWith(":turn-not-found", StringComparison.Ordinal) != true
            || !long.TryParse(request.Query["sequence"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long sequence)
            || found.State is not { } state || sequence < 1 || sequence > state.ArchivedThrough)
        {
            return found;
        }

        var (sessionKey, _) = await callers.SessionKeyAsync(request, sessionId);
        var row = (await archive.ReadBeforeAsync(sessionKey!, sequence + 1, 1, request.HttpContext.RequestAborted)).FirstOrDefault(t => t.Sequence == sequence && t.TurnId == turnId);
        return row is null
            ? found
            : (new TurnView(turnId, row.Sequence, row.Status, row.MessageHash, null, row) { AcceptedAt = row.AcceptedAt, Branch = row.Branch }, state, sessionKey, null);
    }

    /// <summary>Why the turn gets no new variant now, as the session would judge it (and the archive, for the part of the branch it holds).</summary>
    async Task<ApiProblem?> RefusalAsync(ChatSessionState state, string sessionKey, TurnView found, string turnId, bool edit, bool later, CancellationToken cancellation)
    {
        if (found.Sequence == 0 || !found.IsFinished || found.Finished is null)
        {
            return ApiProblem.TurnNotFinished(turnId);
        }

        bool onLine = Branches.OnHeadLine(state, found.Sequence) ?? await OnArchivedLineAsync(state, sessionKey, found.Sequence, cancellation);
        if (!onLine)
        {
            return ApiProblem.TurnNotOnBranch(turnId);
        }

        if (!edit && !later && found.Sequence != Branches.HeadOf(state))
        {
            return ApiProblem.TurnHasLaterTurns(turnId);
        }

        int max = sessions.Value.MaxBranches;
        return Branches.Count(state) >= max ? ApiProblem.TooManyBranches(max) : null;
    }

    Task<bool> OnArchivedLineAsync(ChatSessionState state, string sessionKey, long sequence, CancellationToken cancellation) =>
        ArchiveLine.PassesThroughAsync(archive, sessionKey, Branches.LineFrom(state, Branches.HeadOf(state)).ArchivedFrom, sequence, cancellation);

    /// <summary>
    /// Follows the branch line a turn is on, up to its newest turn: the next message continues it, and every window
    /// is told (a <c>branched</c> event). Answers once the session has switched (or 202 while it is on its way).
    /// </summary>
    async Task<IActionResult> SwitchAsync(HttpRequest request, DurableTaskClient client, string sessionId)
    {
        var (body, unread) = await SmallBodyAsync(request, sessionId);
        if (unread is not null)
        {
            return unread;
        }

        var (turnId, sequence, problem) = BranchInput.Target(body);
        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        var (to, sessionKey, missing) = await TargetAsync(request, client, sessionId, turnId, sequence);
        if (missing is not null)
        {
            return missing.ToResult(request);
        }

        var found = to!;
        var cancellation = request.HttpContext.RequestAborted;
        if (!await SessionStore.TrySignalAsync(client, sessionKey!, nameof(ChatSession.SwitchBranch), found, cancellation))
        {
            return cancellation.IsCancellationRequested ? new EmptyResult() : SessionStore.Unavailable(request, sessionId);
        }

        try
        {
            var state = await waiter.UntilAsync(
                c => SessionStore.ReadAsync(client, sessionKey!, c),
                s => s is null || s.IsEmpty || Branches.HeadOf(s) == Branches.TipOf(s, found.Branch),
                options.Value.AcceptTimeout,
                cancellation);
            if (state is { IsEmpty: false } && Branches.TipOf(state, found.Branch) is { } tip && tip == Branches.HeadOf(state))
            {
                return new OkObjectResult(new BranchView(sessionId, found.Branch, tip));
            }

            if (state is null or { IsEmpty: true })
            {
                return ApiProblem.SessionNotFound(sessionId).ToResult(request);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return new EmptyResult();
        }
        catch (Exception)
        {
            // The switch is on its way; only the session's answer could not be read.
        }

        string url = ChatRoutes.HistoryUrl(sessionId);
        return new AcceptedResult(url, new BranchView(sessionId, found.Branch, null));
    }

    /// <summary>The branch line a switch names: a turn's (by id), or a variant's (by its sequence, as the history lists them).</summary>
    async Task<(BranchSwitch? To, string? SessionKey, ApiProblem? Problem)> TargetAsync(HttpRequest request, DurableTaskClient client, string sessionId, string? turnId, long? sequence)
    {
        if (turnId is not null)
        {
            var (found, _, sessionKey, missing) = await FindAsync(request, client, sessionId, turnId);
            return missing is not null ? (null, null, missing)
                : found!.Sequence == 0 ? (null, null, ApiProblem.TurnNotFinished(turnId))
                : (new BranchSwitch(found.Sequence, found.Branch), sessionKey, null);
        }

        var (key, denied) = await callers.SessionKeyAsync(request, sessionId);
        if (denied is not null)
        {
            return (null, null, denied);
        }

        var (reached, state) = await SessionStore.TryReadAsync(client, key!, request.HttpContext.RequestAborted);
        if (!reached)
        {
            request.HttpContext.Response.Headers.RetryAfter = "1";
            return (null, null, ApiProblem.SessionUnavailable(sessionId));
        }

        if (state is null or { IsEmpty: true })
        {
            return (null, null, ApiProblem.SessionNotFound(sessionId));
        }

        var variant = state.Forks?.SelectMany(f => f.Children).FirstOrDefault(c => c.Sequence == sequence);
        return variant is null
            ? (null, null, ApiProblem.TurnNotFound(sessionId, $"#{sequence}"))
            : (new BranchSwitch(variant.Sequence, variant.Branch), key, null);
    }

    /// <summary>
    /// A new session of the same caller whose conversation is this one's line up to and including a finished turn:
    /// the turns are copied, words and all, into the new session's archive (numbered from 1, one line), with the
    /// summary when it covers only turns of that line; nothing of the original is referenced, so either can be
    /// deleted, branched or continued alone.
    /// </summary>
    async Task<IActionResult> ForkAsync(HttpRequest request, DurableTaskClient client, string sessionId)
    {
        var (body, unread) = await SmallBodyAsync(request, sessionId);
        if (unread is not null)
        {
            return unread;
        }

        var (newId, turnId, problem) = BranchInput.Names(body, withSession: true);
        if (problem is not null)
        {
            return problem.ToResult(request);
        }

        if (newId == sessionId)
        {
            return ApiProblem.SessionExists(newId!).ToResult(request);
        }

        var (found, state, sessionKey, missing) = await FindAsync(request, client, sessionId, turnId!);
        if (missing is not null)
        {
            return missing.ToResult(request);
        }

        if (found!.Sequence == 0 || !found.IsFinished)
        {
            return ApiProblem.TurnNotFinished(turnId!).ToResult(request);
        }

        var (targetKey, denied) = await callers.SessionKeyAsync(request, newId!);
        if (denied is not null)
        {
            return denied.ToResult(request);
        }

        var cancellation = request.HttpContext.RequestAborted;
        var (reached, target) = await SessionStore.TryReadAsync(client, targetKey!, cancellation);
        if (!reached)
        {
            return SessionStore.Unavailable(request, newId!);
        }

        if (target is { IsEmpty: false })
        {
            return ApiProblem.SessionExists(newId!).ToResult(request);
        }

        try
        {
            var copy = await SessionFork.CopyAsync(archive, sessionKey!, state!, found.Sequence, cancellation);

            // The first fork stored under the new session holds it (as a message holds its key): a rival fork is
            // refused before it writes a row, and a repeat of this one writes the same rows again.
            var claim = TurnRequest.For(newId!, SessionFork.ClaimId, $"{sessionId}/{turnId}", clock.GetUtcNow());
            if (await RequestIntake.StoreAsync(archive, targetKey!, target, claim, claim.Message, cancellation) is not { } kept)
            {
                return ApiProblem.SessionExists(newId!).ToResult(request);
            }

            long generation = target is { IsTombstone: true } ? target.Generation + 1 : target?.Generation ?? 0;
            var seed = await SessionFork.WriteAsync(archive, targetKey!, newId!, copy, kept.AcceptedAt, cancellation);
            if (!await SessionStore.TrySignalAsync(client, targetKey!, nameof(ChatSession.Adopt), seed, cancellation))
            {
                return cancellation.IsCancellationRequested ? new EmptyResult() : SessionStore.Unavailable(request, newId!);
            }

            var adopted = await waiter.UntilAsync(c => SessionStore.ReadAsync(client, targetKey!, c), s => s is { IsEmpty: false }, options.Value.AcceptTimeout, cancellation);
            var view = new ForkView(newId!, new ForkOrigin(sessionId, turnId!), seed.Turns, ChatRoutes.HistoryUrl(newId!));
            if (adopted is { IsEmpty: false } && adopted.BornAt != seed.AcceptedAt)
            {
                // Another request began the session first: its summary row is never touched.
                return ApiProblem.SessionExists(newId!).ToResult(request);
            }

            // The summary is written once the session is the fork's: a summary row is never left in a session that
            // turned out to be another's.
            await SessionFork.WriteSummaryAsync(archive, targetKey!, copy, generation, cancellation);
            return adopted is { IsEmpty: false } ? new CreatedResult(view.History, view) : new AcceptedResult(view.History, view);
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            return SessionStore.Unavailable(request, newId!);
        }
    }

    /// <summary>The small JSON body of a switch or a fork, once the session id and the content type are checked.</summary>
    static async Task<(byte[] Body, IActionResult? Problem)> SmallBodyAsync(HttpRequest request, string sessionId) =>
        !SessionIds.IsValid(sessionId) ? ([], ApiProblem.InvalidSessionId(sessionId).ToResult(request))
        : !MessageInput.IsJson(request.ContentType) ? ([], ApiProblem.UnsupportedMediaType(request.ContentType).ToResult(request))
        : await BodyAsync(request, BranchInput.MaxBodyBytes);

    static async Task<(byte[] Body, IActionResult? Problem)> BodyAsync(HttpRequest request, int max)
    {
        if (request.ContentLength > max)
        {
            return ([], ApiProblem.InvalidJson($"The body is larger than {max} bytes.").ToResult(request));
        }

        try
        {
            // Read no further than one byte past the bound, however long a body without a length goes on.
            var buffer = new byte[max + 1];
            int length = 0;
            int read;
            while (length <= max && (read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted)) > 0)
            {
                length += read;
            }

            return length > max
                ? ([], ApiProblem.InvalidJson($"The body is larger than {max} bytes.").ToResult(request))
                : (buffer[..length], null);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return ([], request.HttpContext.RequestAborted.IsCancellationRequested ? new EmptyResult() : ApiProblem.IncompleteBody(exception.Message).ToResult(request));
        }
    }
}
