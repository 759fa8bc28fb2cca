using System.Text;

namespace FunctionsChat.Domain;

/// <summary>
/// Every change a chat session can go through. Pure: the same state and input give the same result,
/// and whatever must happen next (starting a turn, archiving, deleting the archive) is returned, never done.
/// </summary>
public static class SessionTransitions
{
    public static Transition Enqueue(ChatSessionState state, TurnRequest request, DateTimeOffset now, SessionLimits limits)
    {
        if (request.AcceptedAt <= state.DeletedAt)
        {
            // Accepted before the delete (a late or redelivered signal): it stays deleted.
            return new(state, TransitionNote.Deleted);
        }

        if (state.IsTombstone)
        {
            state = Reborn(state);
        }

        // A later delete reaches every request this life has seen, taken or not (its stored words go with it).
        state = state.NewestAcceptedAt >= request.AcceptedAt ? state : state with { NewestAcceptedAt = request.AcceptedAt };
        if (SessionQueries.FindMessageHash(state, request.TurnId) is { } knownHash)
        {
            return new(state, knownHash == request.MessageHash ? TransitionNote.Duplicate : TransitionNote.Conflict);
        }

        state = ForgetRefusals(state, now, limits);
        if (SessionQueries.RefusalOf(state, request) is { } refusal)
        {
            // A copy of a request already refused (redelivered, or late behind a retry): its sender was told 429 (or
            // 409), so it stays refused. A retry accepted later is a new request and is judged afresh.
            return new(state, refusal.Busy ? TransitionNote.Busy : TransitionNote.QueueFull);
        }

        bool inProgress = state.Active is not null || state.Pending.Count > 0;
        if (request.Strategy == MultitaskStrategy.Reject && inProgress)
        {
            return Done(Refuse(state, request, busy: true, limits), now, limits);
        }

        var before = state;
        // A variant the API found possible may no longer be (another window moved the conversation on since): it is
        // judged on the state as it came, before its strategy stops anything.
        string? whyNot = request.VariantOf is { } asked ? Branches.WhyNot(state, asked, limits) : null;
        if (whyNot is null && request.Strategy is MultitaskStrategy.Interrupt or MultitaskStrategy.Rollback)
        {
            // The message takes over: what was queued is cancelled, and the running turn is asked to stop.
            state = StopRunning(CancelAllQueued(state, now), request.Strategy == MultitaskStrategy.Interrupt ? TurnStatus.Interrupted : TurnStatus.RolledBack, now, limits);
        }

        var refused = state.Refused.Where(r => r.TurnId != request.TurnId).ToArray();
        long sequence = state.NextSequence;
        var variant = whyNot is null ? request.VariantOf : null;
        var (parent, branch) = variant is not null ? (variant.Parent, sequence) : Branches.NextAfterHead(state);
        long events = state.Events + (variant is null ? 1 : 2);
        var queued = new QueuedTurn(request.TurnId, sequence, request.Message, request.MessageHash, request.AcceptedAt, now)
        {
            TraceParent = request.TraceParent,
            MessageRef = request.MessageRef,
            QueuedEvent = state.Events + 1,
            Parent = parent,
            Branch = branch,
        };
        var taken = Branches.Follow(Touch(state, request.SessionId, now), queued, variant) with
        {
            NextSequence = sequence + 1,
            Events = events,
            BranchedEvent = variant is null ? state.BranchedEvent : events,
            Refused = refused,
            BornAt = state.BornAt < request.AcceptedAt ? state.BornAt : request.AcceptedAt,
            Pending = [.. state.Pending, queued],
        };
        if (state.Pending.Count >= limits.MaxPendingTurns || !StateBudget.HasRoom(taken, limits))
        {
            // A state out of room (long ids, an archive that is behind) asks the archive to catch up; nothing the
            // message would have stopped is stopped.
            return Done(Refuse(before, request, busy: false, limits), now, limits);
        }

        if (whyNot is not null)
        {
            // Taken and failed at once, on the branch followed: its caller reads why in the turn's status.
            var failed = Finished(queued, now, TurnStatus.Failed) with { ErrorCode = ErrorCodes.BranchInvalid, ErrorMessage = whyNot, FinishedEvent = events + 1 };
            return Done(new(WithFinished(taken with { Pending = state.Pending, Events = events + 1 }, failed), TransitionNote.Applied), now, limits);
        }

        // Admission has just found room in this very state: the start need not measure it again.
        return Done(StartNextIfIdle(taken, now, limits, roomKnown: true), now, limits);
    }

    /// <summary>
    /// The caller's quota granted a slot: the session's next turn starts. A grant of an ask the session no longer
    /// waits for (it let the ask go, or it is a copy of an older one) goes back at once.
    /// </summary>
    public static Transition Granted(ChatSessionState state, SlotGrant grant, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Slot is not { } slot || slot.Ask != grant.Ask)
        {
            return new(state, TransitionNote.Stale) { ReleaseSlot = grant.Ask };
        }

        return slot.Held
            ? new(state, TransitionNote.Duplicate)
            : Done(StartNextIfIdle(state with { Slot = slot with { Held = true } }, now, limits), now, limits);
    }

    /// <summary>
    /// The session's own check on an ask: still waiting under it, the session asks again (the quota may have let it
    /// go, told so by a release whose operation's state was lost); otherwise the check is stale.
    /// </summary>
    public static Transition SlotCheck(ChatSessionState state, SlotGrant check, DateTimeOffset now, SessionLimits limits) =>
        state.Slot is { Held: false } slot && slot.Ask == check.Ask
            ? new(state, TransitionNote.Rearmed) { AskSlot = slot.Ask, SlotCheckAt = now + CallerSlotRules.RecheckAfter }
            : new(state, TransitionNote.Stale);

    /// <summary>
    /// Begins a forked session: its archive already holds the copied line, which it takes as its own. Only a session
    /// that holds nothing (never used, or deleted) takes a fork; a repeat of the same fork changes nothing.
    /// </summary>
    public static Transition Adopt(ChatSessionState state, ForkSeed seed, DateTimeOffset now, SessionLimits limits)
    {
        if (seed.AcceptedAt <= state.DeletedAt)
        {
            return new(state, TransitionNote.Deleted);
        }

        if (!state.IsEmpty)
        {
            return new(state, state.BornAt == seed.AcceptedAt && state.ArchivedThrough >= seed.Turns ? TransitionNote.Duplicate : TransitionNote.Conflict);
        }

        var born = state.IsTombstone ? Reborn(state) : state;
        return Done(new(Touch(born, seed.SessionId, now) with
        {
            NextSequence = seed.Turns + 1,
            ArchivedThrough = seed.Turns,
            ArchivedIds = seed.Keys.TakeLast(limits.ArchivedIdWindow).ToArray(),
            SummaryThrough = seed.SummaryThrough,
            BornAt = seed.AcceptedAt,
            NewestAcceptedAt = seed.AcceptedAt,
        }, TransitionNote.Applied), now, limits);
    }

    /// <summary>
    /// Follows another branch line, up to its newest turn: the conversation the model is shown from the next turn on,
    /// and what every window shows (a <c>branched</c> event).
    /// </summary>
    public static Transition SwitchBranch(ChatSessionState state, BranchSwitch to, DateTimeOffset now, SessionLimits limits)
    {
        if (state.IsEmpty || state.IsTombstone || Branches.TipOf(state, to.Branch) is not { } tip || tip < to.Sequence)
        {
            return new(state, TransitionNote.NotFound);
        }

        if (tip == Branches.HeadOf(state))
        {
            return new(state, TransitionNote.Duplicate);
        }

        long events = state.Events + 1;
        return Done(new(Touch(state, state.SessionId, now) with
        {
            Head = tip,
            Tips = state.Tips ?? [new BranchTip(0, Branches.HeadOf(state))],
            Events = events,
            BranchedEvent = events,
        }, TransitionNote.Applied), now, limits);
    }

    /// <summary>
    /// Refuses a request, remembering only its id and fingerprint so its caller learns why (a rival message under the
    /// same key keeps its own entry); a retry with the same key is judged afresh.
    /// </summary>
    static Transition Refuse(ChatSessionState state, TurnRequest request, bool busy, SessionLimits limits)
    {
        var refusal = new ArchivedTurnKey(request.TurnId, request.MessageHash) { AcceptedAt = request.AcceptedAt, Busy = busy };
        var remembered = state.Refused.Where(r => r.TurnId != request.TurnId || r.MessageHash != request.MessageHash).Append(refusal).ToArray();
        var through = state.RefusedThrough;
        foreach (var pushedOut in remembered.SkipLast(limits.RefusedWindow))
        {
            // Still within the redelivery horizon: remembered by its time, with the others pushed out.
            through = through >= pushedOut.AcceptedAt ? through : pushedOut.AcceptedAt;
        }

        return new(state with { Refused = remembered.TakeLast(limits.RefusedWindow).ToArray(), RefusedThrough = through }, busy ? TransitionNote.Busy : TransitionNote.QueueFull);
    }

    /// <summary>Refusals accepted longer ago than the redelivery horizon are forgotten: no copy of them can still arrive.</summary>
    static ChatSessionState ForgetRefusals(ChatSessionState state, DateTimeOffset now, SessionLimits limits)
    {
        var horizon = now - limits.RedeliveryHorizon;
        if (state.Refused.All(r => r.AcceptedAt >= horizon) && !(state.RefusedThrough < horizon))
        {
            return state;
        }

        return state with
        {
            Refused = state.Refused.Where(r => r.AcceptedAt >= horizon).ToArray(),
            RefusedThrough = state.RefusedThrough < horizon ? null : state.RefusedThrough,
        };
    }

    /// <summary>Every queued turn is cancelled (an event each).</summary>
    static ChatSessionState CancelAllQueued(ChatSessionState state, DateTimeOffset now) =>
        state.Pending.Aggregate(state, (s, queued) => CancelQueued(s, queued, now));

    /// <summary>One queued turn leaves the queue, cancelled: the session's next event.</summary>
    static ChatSessionState CancelQueued(ChatSessionState state, QueuedTurn queued, DateTimeOffset now) =>
        WithFinished(
            Touch(state, state.SessionId, now) with { Pending = state.Pending.Where(t => t.TurnId != queued.TurnId).ToArray(), Events = state.Events + 1 },
            Finished(queued, now, TurnStatus.Cancelled) with { FinishedEvent = state.Events + 1 });

    /// <summary>
    /// Asks the running turn to stop: it stays running until its model call has stopped and reported (the model
    /// activity watches for this), then finishes as <paramref name="status"/>;     /// turn that cannot report (its orchestration terminated, or waiting out a retry) does not hold the session up: the
    /// session's stop check finishes it when the stop grace has passed.
    /// </summary>
    static ChatSessionState StopRunning(ChatSessionState state, TurnStatus status, DateTimeOffset now, SessionLimits limits) =>
        state.Active is { Stop: null } active ? state with { Active = active with { Stop = status, StopBy = now + limits.StopGrace } } : state;

    public static Transition Complete(ChatSessionState state, TurnCompletion completion, DateTimeOffset now, SessionLimits limits)
    {
        if (RunningTurn(state, completion.TurnId, completion.Run, completion.MessageHash) is not { } turn)
        {
            return new(state, TransitionNote.Stale) { Verdict = VerdictOf(state, completion.TurnId, completion.Run) };
        }

        if (completion.Stopped && state.Active!.Stop is null)
        {
            // A call stops on its own only when the session asked it to, or when it was not this session's to make: an
            // execution that read a state never saved (its start went out, the operation ran again), or one replaced
            // by a later start of the same instance. Its report is not the turn's; the later execution's will be.
            return new(state, TransitionNote.Stale) { Verdict = VerdictOf(state, completion.TurnId, completion.Run) };
        }

        // A turn asked to stop finishes as the stop says, with what its model had said (all of it, if it was done first).
        var status = state.Active!.Stop ?? (completion.Stopped ? TurnStatus.Cancelled : TurnStatus.Completed);
        bool saidNothing = completion.Stopped && completion.Answer.Length == 0 && completion.AnswerRef is null;
        var finished = Finished(turn, completion.CompletedAt, status) with
        {
            Answer = saidNothing ? null : completion.Answer,
            AnswerRef = completion.AnswerRef,
            Attempt = completion.Attempt,
            Model = PayloadBudget.Clip(completion.Model, PayloadBudget.NoteBytes),
            Usage = completion.Usage,
            Truncated = completion.Truncated,
            Warning = completion.Warning,
        };
        return FinishActive(WithSummary(state, completion.SummaryThrough), finished, now, limits) with { Verdict = new(turn.TurnId, status) };
    }

    public static Transition Fail(ChatSessionState state, TurnFailure failure, DateTimeOffset now, SessionLimits limits)
    {
        if (RunningTurn(state, failure.TurnId, failure.Run, failure.MessageHash) is not { } turn)
        {
            return new(state, TransitionNote.Stale) { Verdict = VerdictOf(state, failure.TurnId, failure.Run) };
        }

        if (state.Active!.Stop is { } stop)
        {
            // Stopped before the model said anything it could keep.
            return FinishActive(WithSummary(state, failure.SummaryThrough), Finished(turn, failure.FailedAt, stop), now, limits) with { Verdict = new(turn.TurnId, stop) };
        }

        var finished = Finished(turn, failure.FailedAt, TurnStatus.Failed) with
        {
            ErrorCode = PayloadBudget.Clip(failure.Code, PayloadBudget.NoteBytes),
            ErrorMessage = PayloadBudget.Clip(failure.Message, PayloadBudget.NoteBytes),
        };
        return FinishActive(WithSummary(state, failure.SummaryThrough), finished, now, limits) with { Verdict = new(turn.TurnId, TurnStatus.Failed, failure.Code) };
    }

    /// <summary>
    /// The session's one expiry signal: fails the running turn if it is past its time (so a turn that never reports
    /// back cannot wedge the session), or arms itself again for the turn running now. A signal that arrives early (the
    /// backend runs one up to 100 ms early, and queue visibility is whole seconds) arms itself again: no deadline is cut short.
    /// </summary>
    public static Transition Expire(ChatSessionState state, TurnExpiry expiry, DateTimeOffset now, SessionLimits limits)
    {
        if (expiry.At is not null && expiry.At == state.StopCheckAt)
        {
            // The stop check: a turn asked to stop that has not reported within the grace stops without it.
            state = state with { StopCheckAt = null };
            // Armed for an earlier stop (a turn that reported in time), it arms itself again for this one's grace.
            return state.Active is { Stop: { } asked, StopBy: { } by } stopping && expiry.At >= by && now >= by
                ? FinishActive(state, Finished(stopping.Turn, now, asked), now, limits)
                : Done(new(state, TransitionNote.Rearmed), now, limits);
        }

        if (expiry.At != state.ExpiryCheckAt)
        {
            return new(state, TransitionNote.Stale);
        }

        state = state with { ExpiryCheckAt = null };
        if (state.Active is not { } active || now < active.ExpiresAt)
        {
            return Done(new(state, TransitionNote.Rearmed), now, limits);
        }

        if (active.Stop is { } stop)
        {
            // Asked to stop and out of time before it reported: it stops without its partial answer.
            return FinishActive(state, Finished(active.Turn, now, stop), now, limits);
        }

        var finished = Finished(active.Turn, now, TurnStatus.Failed) with
        {
            ErrorCode = ErrorCodes.TurnExpired,
            ErrorMessage = $"The turn did not finish within {limits.TurnTimeout.TotalSeconds:0} seconds.",
        };
        return FinishActive(state, finished, now, limits);
    }

    /// <summary>
    /// Cancels a queued turn (removed from the queue) or asks the running one to stop (it finishes as cancelled once
    /// its model call has stopped, or when the stop grace passes).
    /// </summary>
    public static Transition Cancel(ChatSessionState state, TurnCancellation cancellation, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Active is { } running && running.Turn.TurnId == cancellation.TurnId)
        {
            return running.Stop is null
                ? Done(new(StopRunning(state, TurnStatus.Cancelled, now, limits), TransitionNote.Applied), now, limits)
                : new(state, TransitionNote.Duplicate);
        }

        if (state.Pending.FirstOrDefault(t => t.TurnId == cancellation.TurnId) is { } queued)
        {
            return Done(new(CancelQueued(state, queued, now), TransitionNote.Applied), now, limits);
        }

        var known = SessionQueries.FindTurn(state, cancellation.TurnId);
        return new(state, known is null ? TransitionNote.NotFound : TransitionNote.AlreadyFinished);
    }

    /// <summary>The archive holds the batch: its turns leave the working set, and the next batch may start.</summary>
    public static Transition ConfirmArchived(ChatSessionState state, ArchiveReport report, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Archiving?.BatchId != report.BatchId)
        {
            // A write that landed after the session was deleted leaves rows nobody reads: delete them too (a later
            // life's rows are out of the erasure's reach).
            return new(state, TransitionNote.Stale) { DeleteArchive = state.DeletedAt is not null };
        }

        var archived = state.Turns.Where(t => t.Sequence <= report.ThroughSequence).Select(t => new ArchivedTurnKey(t.TurnId, t.MessageHash) { Sequence = t.Sequence });
        var next = state with
        {
            Turns = state.Turns.Where(t => t.Sequence > report.ThroughSequence).ToArray(),
            ArchivedIds = state.ArchivedIds.Concat(archived).TakeLast(limits.ArchivedIdWindow).ToArray(),
            ArchivedThrough = Math.Max(state.ArchivedThrough, report.ThroughSequence),
            Archiving = null,
        };

        // A queue held back for room starts again now that the turns have left.
        return Done(StartNextIfIdle(next, now, limits), now, limits);
    }

    /// <summary>
    /// The archive write failed for good: the turns stay, and a later turn tries again; a queue held back for room
    /// cannot wait for one, so the write starts again at once (its orchestration retries with back-off).
    /// </summary>
    public static Transition ArchiveFailed(ChatSessionState state, ArchiveReport report, DateTimeOffset now, SessionLimits limits)
    {
        if (state.Archiving?.BatchId != report.BatchId)
        {
            return new(state, TransitionNote.Stale);
        }

        state = state with { Archiving = null };
        bool heldBack = state.Active is null && state.Pending.Count > 0;
        return heldBack ? Done(new(state, TransitionNote.Applied), now, limits) : new(state, TransitionNote.Applied);
    }

    /// <summary>
    /// The session's one retention signal: deletes a session left idle for the retention time, forgets a tombstone
    /// past its time, or arms itself again for the deadline as it stands now, also when it arrives before it.
    /// </summary>
    public static Transition RetentionCheck(ChatSessionState state, RetentionDue? due, DateTimeOffset now, SessionLimits limits)
    {
        if (due?.At != state.RetentionCheckAt)
        {
            return new(state, TransitionNote.Stale);
        }

        state = state with { RetentionCheckAt = null };
        if (RetentionDeadline(state, now, limits) is not { } deadline || now < deadline)
        {
            return Done(new(state, TransitionNote.Rearmed), now, limits);
        }

        if (state.IsTombstone)
        {
            // The tombstone has outlived any late signal: store nothing (but a pending expiry signal's due time), and
            // let no stored words of a request that raced the delete outlive it.
            return new(ChatSessionState.Empty with { ExpiryCheckAt = state.ExpiryCheckAt, StopCheckAt = state.StopCheckAt }, TransitionNote.Deleted)
            {
                DeleteArchive = true,
                Erase = Erasure.Of(state),
                // Once nothing is stored, the entity's own row in the task hub goes too.
                Forget = true,
            };
        }

        return Delete(state, new SessionDeletion(now), now, limits);
    }

    /// <summary>
    /// Ends the session: every word goes (the archive with it), and a tombstone stays for the tombstone time so that
    /// a request accepted before the delete cannot bring the session back.
    /// </summary>
    public static Transition Delete(ChatSessionState state, SessionDeletion? deletion, DateTimeOffset now, SessionLimits limits)
    {
        var at = deletion?.RequestedAt ?? now;
        if (!state.IsTombstone && state.BornAt > at)
        {
            // Every turn of this life was accepted after the delete was asked for: they stay, and anything accepted
            // before it that is still on its way is dropped when it arrives. Words stored for requests accepted before
            // it that this life never took (a rival under a taken key) go now.
            return state.DeletedAt >= at
                ? new(state, TransitionNote.Stale)
                : new(state with { DeletedAt = at }, TransitionNote.Stale) { DeleteArchive = true };
        }

        // Everything this life took is gone: a sender of any of it finds its request dropped, not merely unseen.
        var erasedThrough = state.NewestAcceptedAt > at ? state.NewestAcceptedAt.Value : at;
        var tombstone = ChatSessionState.Empty with
        {
            Generation = state.Generation,
            DeletedAt = state.DeletedAt > erasedThrough ? state.DeletedAt : erasedThrough,
            ExpiryCheckAt = state.ExpiryCheckAt,
            StopCheckAt = state.StopCheckAt,
            RetentionCheckAt = state.RetentionCheckAt,
            Slot = state.Slot,
        };
        var purge = new SessionPurge(
            [.. state.Turns.Select(t => (t.TurnId, t.Sequence)).Concat(state.Active is { } a ? [(a.Turn.TurnId, a.Turn.Sequence)] : [])
                .Select(t => new TurnRun(t.TurnId, SessionQueries.RunOf(state, t.Sequence)))],
            [.. new[] { state.LastArchiveBatchId, state.Archiving?.BatchId }.OfType<string>().Distinct()])
        {
            // An archive orchestration still running may itself be lingering to purge: wait out its linger too.
            Linger = limits.PurgeLinger * 2,
        };
        return Arm(new(tombstone, TransitionNote.Deleted)
        {
            // Every request leaves its words in the store, even one the session never took, and even one whose signal
            // has not arrived yet (its sender may never learn it was dropped, if its reads fail): the sweep always runs.
            DeleteArchive = true,
            Purge = purge,
        }, now, limits);
    }

    /// <summary>When the retention signal should find the session: idle deadline, tombstone end, or none.</summary>
    static DateTimeOffset? RetentionDeadline(ChatSessionState state, DateTimeOffset now, SessionLimits limits)
    {
        if (state.IsTombstone)
        {
            return state.DeletedAt + limits.TombstoneTime;
        }

        if (limits.IdleRetention <= TimeSpan.Zero || state.IsEmpty)
        {
            return null;
        }

        var idleSince = state.Active is null && state.Pending.Count == 0 ? state.LastActivityAt : now;
        return idleSince + limits.IdleRetention;
    }

    /// <summary>Arms the session's expiry, stop-check and retention signals where one is needed and none is on its way: one of each at most.</summary>
    static Transition Arm(Transition transition, DateTimeOffset now, SessionLimits limits)
    {
        transition = LetSlotGo(transition);
        var state = transition.State;
        DateTimeOffset? expiry = null;
        DateTimeOffset? retention = null;
        if (state.Active is { } active && state.ExpiryCheckAt is null)
        {
            expiry = active.ExpiresAt;
            state = state with { ExpiryCheckAt = expiry };
        }

        DateTimeOffset? stopCheck = null;
        if (state.Active is { StopBy: { } by } && state.StopCheckAt is null)
        {
            stopCheck = by;
            state = state with { StopCheckAt = by };
        }

        if (state.RetentionCheckAt is null && RetentionDeadline(state, now, limits) is { } deadline)
        {
            retention = deadline > now ? deadline : now;
            state = state with { RetentionCheckAt = retention };
        }

        return expiry is null && retention is null && stopCheck is null
            ? transition
            : transition with { State = state, ExpiryCheckAt = expiry, StopCheckAt = stopCheck, RetentionCheckAt = retention };
    }

    /// <summary>A session with no turn to run (finished, cancelled or deleted) lets its caller's slot, or its ask, go.</summary>
    static Transition LetSlotGo(Transition transition) =>
        transition.State is { Slot: { } slot, Active: null, Pending.Count: 0 }
            ? transition with { State = transition.State with { Slot = null }, ReleaseSlot = slot.Ask }
            : transition;

    static Transition Done(Transition transition, DateTimeOffset now, SessionLimits limits)
    {
        var done = Arm(Settle(transition, now, limits), now, limits);
        return done with { State = StateBudget.Fit(done.State) };
    }

    /// <summary>The running turn, if it is the incarnation a result names (results of older incarnations are stale).</summary>
    static QueuedTurn? RunningTurn(ChatSessionState state, string turnId, string? run, string? messageHash) =>
        state.Active?.Turn is { } turn && turn.TurnId == turnId && (run is null || run == SessionQueries.RunOf(state, turn.Sequence))
            && (messageHash is null || messageHash == turn.MessageHash) ? turn : null;

    static TurnVerdict VerdictOf(ChatSessionState state, string turnId, string? run) =>
        SessionQueries.FindTurn(state, turnId) is { } turn && (run is null || run == SessionQueries.RunOf(state, turn.Sequence))
            ? new(turnId, turn.Status, turn.Finished?.ErrorCode)
            : new(turnId, null);

    /// <summary>A turn's summary step moved the summary on: later turns read it from there.</summary>
    /// <summary>
    /// The summary's reach as the turn's report gives it: only ever forward in a session that never branched; in one
    /// that has, the summary row is the latest written, of whichever line, and may reach less far.
    /// </summary>
    static ChatSessionState WithSummary(ChatSessionState state, long summaryThrough) =>
        summaryThrough > state.SummaryThrough || (state.Head is not null && summaryThrough != state.SummaryThrough) ? state with { SummaryThrough = summaryThrough } : state;

    static ChatSessionState Reborn(ChatSessionState tombstone) => ChatSessionState.Empty with
    {
        Generation = tombstone.Generation + 1,
        DeletedAt = tombstone.DeletedAt,
        ExpiryCheckAt = tombstone.ExpiryCheckAt,
        StopCheckAt = tombstone.StopCheckAt,
        RetentionCheckAt = tombstone.RetentionCheckAt,
    };

    static Transition FinishActive(ChatSessionState state, TranscriptTurn finished, DateTimeOffset now, SessionLimits limits)
    {
        finished = finished with { StartedEvent = state.Active?.StartedEvent ?? 0, FinishedEvent = state.Events + 1 };
        var next = WithFinished(Touch(state, state.SessionId, now) with { Active = null, Events = state.Events + 1 }, finished);
        return Done(StartNextIfIdle(next, now, limits), now, limits);
    }

    static Transition StartNextIfIdle(ChatSessionState state, DateTimeOffset now, SessionLimits limits, bool roomKnown = false)
    {
        if (state.Active is not null || state.Pending.Count == 0)
        {
            return new(state, TransitionNote.Applied);
        }

        var head = state.Pending[0];
        var active = new ActiveTurn(head, now, now + limits.TurnTimeout) { StartedEvent = state.Events + 1 };
        if (!roomKnown && !StateBudget.HasRoom(state, limits))
        {
            // No room for the turn's result until the archive takes finished turns: it waits, queued (Settle archives).
            return new(state, TransitionNote.Applied);
        }

        if (limits.CallerSlots && state.Slot is not { Held: true })
        {
            // The caller's running turns are limited: the turn waits, queued, until the caller's quota grants a slot.
            // The ask names the session's event and moment: a state that was never saved (the worker lost after its
            // messages went out) may ask again at the same event, but never at the same moment, nor may a later life.
            string ask = $"{state.Events}.{now.UtcTicks}";
            return state.Slot is null
                ? new(state with { Slot = new CallerSlot(ask, Held: false) }, TransitionNote.Applied) { AskSlot = ask, SlotCheckAt = now + CallerSlotRules.RecheckAfter }
                : new(state, TransitionNote.Applied);
        }

        var (line, archivedFrom) = Branches.LineFrom(state, Branches.ParentOf(head));
        var start = new TurnStart(state.SessionId, head.TurnId, head.Sequence, head.Message, SessionQueries.Conversation(line), active.ExpiresAt)
        {
            ArchivedFrom = archivedFrom,
            StartedAt = now,
            TraceParent = head.TraceParent,
            MessageRef = head.MessageRef,
            AcceptedAt = head.AcceptedAt,
            MessageHash = head.MessageHash,
            Run = SessionQueries.RunOf(state, head.Sequence),
            ArchivedThrough = state.ArchivedThrough,
            SummaryThrough = state.SummaryThrough,
            Generation = state.Generation,
        };
        return new(state with { Pending = state.Pending.Skip(1).ToArray(), Active = active, Events = active.StartedEvent }, TransitionNote.Applied, start);
    }

    /// <summary>
    /// Starts an archive write when the working set has outgrown its bounds: the oldest finished turns (only those
    /// older than every unfinished turn, so the archive is always a whole prefix), until half the bounds remain.
    /// </summary>
    static Transition Settle(Transition transition, DateTimeOffset now, SessionLimits limits)
    {
        var state = transition.State;
        if (!limits.Archives || (state.Archiving is { } running && now - running.StartedAt < limits.ArchiveTimeout))
        {
            return transition;
        }

        int count = state.Turns.Count;
        long bytes = state.Turns.Sum(TurnBytes);
        // Short of room for the next turn's result, every finished turn that can go goes.
        bool cramped = state.Turns.Count > 0 && StateBudget.IsCramped(state, limits);
        if (count <= limits.MaxWorkingTurns && bytes <= limits.MaxWorkingBytes && !cramped)
        {
            return transition;
        }

        long firstUnfinished = Math.Min(state.Active?.Turn.Sequence ?? long.MaxValue, state.Pending.Count > 0 ? state.Pending.Min(t => t.Sequence) : long.MaxValue);
        var batch = new List<TranscriptTurn>();
        long batchBytes = 0;
        foreach (var turn in state.Turns)
        {
            bool overHalf = cramped || count > limits.MaxWorkingTurns / 2 || bytes > limits.MaxWorkingBytes / 2;
            if (!overHalf || turn.Sequence >= firstUnfinished || batch.Count == limits.MaxWorkingTurns)
            {
                break;
            }

            // The batch is an orchestration input: words past its budget go by their keys, read back by the writer.
            var carried = turn;
            int size = PayloadBudget.Bytes(carried);
            if (batchBytes + size > PayloadBudget.BatchBytes)
            {
                carried = StoredText.Leave(turn);
                size = PayloadBudget.Bytes(carried);
                if (batch.Count > 0 && batchBytes + size > PayloadBudget.BatchBytes)
                {
                    break;
                }
            }

            batch.Add(carried);
            batchBytes += size;
            count--;
            bytes -= TurnBytes(turn);
        }

        if (batch.Count == 0)
        {
            return transition;
        }

        var archiving = new ArchiveBatch($"{batch[^1].Sequence}-{now.UtcTicks}", batch[^1].Sequence, now);
        var purge = new SessionPurge(
            [.. batch.Select(t => new TurnRun(t.TurnId, SessionQueries.RunOf(state, t.Sequence)))],
            state.LastArchiveBatchId is { } previous ? [previous] : []) { Linger = limits.PurgeLinger };
        return transition with
        {
            State = state with { Archiving = archiving, LastArchiveBatchId = archiving.BatchId },
            Archive = new ArchiveStart(archiving.BatchId, archiving.ThroughSequence, batch) { Purge = purge },
        };
    }

    /// <summary>The text a turn holds, in UTF-8 bytes, plus room for its fields: what it adds to the stored state.</summary>
    public static long TurnBytes(TranscriptTurn turn) =>
        256 + Encoding.UTF8.GetByteCount(turn.Message) + (turn.Answer is null ? 0 : Encoding.UTF8.GetByteCount(turn.Answer))
        + (turn.ErrorMessage is null ? 0 : Encoding.UTF8.GetByteCount(turn.ErrorMessage));

    // Finished turns stay in sequence order, so the archive always holds a whole prefix of the transcript.
    static ChatSessionState WithFinished(ChatSessionState state, TranscriptTurn finished)
    {
        var turns = new List<TranscriptTurn>(state.Turns.Count + 1);
        turns.AddRange(state.Turns);
        int at = turns.Count;
        while (at > 0 && turns[at - 1].Sequence > finished.Sequence)
        {
            at--;
        }

        turns.Insert(at, finished);
        return state with { Turns = turns };
    }

    static ChatSessionState Touch(ChatSessionState state, string sessionId, DateTimeOffset now) => state with
    {
        SessionId = sessionId,
        CreatedAt = state.IsEmpty && state.NextSequence == 1 ? now : state.CreatedAt,
        LastActivityAt = now,
    };

    static TranscriptTurn Finished(QueuedTurn turn, DateTimeOffset at, TurnStatus status) =>
        new(turn.TurnId, turn.Sequence, status, turn.Message, turn.MessageHash, turn.AcceptedAt, at) { MessageRef = turn.MessageRef, QueuedEvent = turn.QueuedEvent, Parent = turn.Parent, Branch = turn.Branch };
}
