// FunctionsChat's page: the caller's sessions, one session's history, queue and running turn, and its live events.
// Plain ES module, no dependencies; every request goes to the app's own HTTP API.

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const keyInput = $("function-key");
const tokenInput = $("bearer-token");
keyInput.value = params.get("code") ?? sessionStorage.getItem("functionKey") ?? "";
tokenInput.value = sessionStorage.getItem("bearerToken") ?? "";
keyInput.addEventListener("change", () => sessionStorage.setItem("functionKey", keyInput.value));
tokenInput.addEventListener("change", () => sessionStorage.setItem("bearerToken", tokenInput.value));

function headers(extra = {}) {
  const h = { ...extra };
  if (keyInput.value) h["x-functions-key"] = keyInput.value;
  if (tokenInput.value) h["Authorization"] = `Bearer ${tokenInput.value}`;
  return h;
}

/** A request to the API; a problem answer (RFC 9457) is shown and thrown. */
async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers) });
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") ?? "";
  const body = type.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const problem = body ?? { title: `HTTP ${response.status}`, detail: response.statusText };
    const retryAfter = response.headers.get("retry-after");
    if (retryAfter) problem.detail = `${problem.detail ?? ""} (Retry-After: ${retryAfter} s)`;
    showProblem(problem);
    throw Object.assign(new Error(problem.title), { problem });
  }
  return body;
}

function showProblem(problem) {
  $("problem-title").textContent = problem.title ?? "Something went wrong";
  $("problem-detail").textContent = problem.detail ?? "";
  $("problem").hidden = false;
}
$("problem-close").addEventListener("click", () => { $("problem").hidden = true; });

// ---- sessions -------------------------------------------------------------------------------------------------
let sessionsToken = null;

async function loadSessions(more = false) {
  const query = new URLSearchParams({ pageSize: "10" });
  if (more && sessionsToken) query.set("continuationToken", sessionsToken);
  const page = await api(`/Chat?${query}`);
  if (!more) $("sessions").replaceChildren();
  for (const s of page.sessions) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${s.id} (${s.messageCount})`;
    button.addEventListener("click", () => openSession(s.id));
    li.append(button);
    $("sessions").append(li);
  }
  sessionsToken = page.continuationToken;
  $("more-sessions").hidden = !sessionsToken;
}
$("more-sessions").addEventListener("click", () => loadSessions(true).catch(() => {}));

$("new-session").addEventListener("submit", (e) => {
  e.preventDefault();
  openSession($("new-session-id").value.trim());
});

// ---- the caller's use -----------------------------------------------------------------------------------------
/** "1.00:00:00" (a .NET TimeSpan) as "1 day", "01:00:00" as "1 hour", "00:10:00" as "10 minutes". */
function period(span) {
  const [, days, h, m] = /^(?:(\d+)\.)?(\d+):(\d+):/.exec(span) ?? [];
  const parts = [[Number(days ?? 0), "day"], [Number(h ?? 0), "hour"], [Number(m ?? 0), "minute"]].filter(([n]) => n > 0);
  return parts.map(([n, unit]) => `${n} ${unit}${n === 1 ? "" : "s"}`).join(" ") || span;
}

function showUse(id, { used, limit }, extra = "") {
  $(id).textContent = (limit == null ? `${used} (no limit)` : `${used} of ${limit}`) + extra;
  $(id).classList.toggle("at-limit", limit != null && used >= limit);
}

let usageTimer = null;

/** The caller's use and limits, read again shortly after anything that may change them; a failed read leaves the view as it was. */
function loadUsage(delay = 0) {
  clearTimeout(usageTimer);
  usageTimer = setTimeout(async () => {
    try {
      const response = await fetch("/Chat/usage", { headers: headers() });
      if (!response.ok) return;
      const use = await response.json();
      showUse("usage-messages", use.messagesPerMinute);
      $("usage-tokens-label").textContent = use.tokens.period ? `Model tokens per ${period(use.tokens.period)}` : "Model tokens";
      showUse("usage-tokens", use.tokens);
      showUse("usage-turns", use.runningTurns, use.runningTurns.waiting ? `, ${use.runningTurns.waiting} waiting` : "");
      $("usage").hidden = false;
    } catch { /* the view is left as it was */ }
  }, delay);
}

// ---- one session ----------------------------------------------------------------------------------------------
/** The session on screen: its turns by id (sequence, message, status, answer), and the live events' reader. */
let current = null;

async function openSession(sessionId) {
  current?.abort.abort();
  current = { sessionId, turns: new Map(), previousPage: null, abort: new AbortController(), lastEventId: null, newVariants: new Set(), editing: null, draft: null };
  history.replaceState(null, "", `?session=${encodeURIComponent(sessionId)}${params.get("code") ? `&code=${encodeURIComponent(params.get("code"))}` : ""}`);
  $("session-heading").textContent = sessionId;
  $("session").hidden = false;
  $("summary").hidden = true;
  try {
    await loadHistory();
  } catch (error) {
    if (error.problem?.status !== 404) throw error;
    render(); // a new session: nothing yet
  }
  follow(current);
  $("message").focus();
}

async function loadHistory(older = false) {
  const session = current;
  const path = older && session.previousPage ? session.previousPage : `/Chat/${encodeURIComponent(session.sessionId)}/getHistory?limit=20`;
  const view = await api(path);
  if (session !== current) return;
  for (const m of view.messages) {
    const turn = turnOf(m.turnId, m.sequence);
    if (m.role === "user") turn.message = m.content;
    else turn.answer = m.content;
    turn.status = m.status;
    turn.shownToModel = m.shownToModel;
    turn.variants = m.variants ?? null;
  }
  if (!older) {
    for (const p of view.pending) Object.assign(turnOf(p.turnId, p.sequence), { message: p.message, status: "queued" });
    if (view.active) Object.assign(turnOf(view.active.turnId, view.active.sequence), { message: view.active.message, status: "running", stopping: view.active.stopping });
  }
  if (view.summary) {
    $("summary-text").textContent = view.summary.text;
    $("summary").hidden = false;
  }
  if (older || !session.previousPage) session.previousPage = view.previousPage ?? null;
  $("load-older").hidden = !session.previousPage;
  render();
}
$("load-older").addEventListener("click", () => loadHistory(true).catch(() => {}));

/** Reads the history again from the start: after a sync, or when the conversation moved to another branch. */
function reload() {
  current.turns.clear();
  current.previousPage = null;
  loadHistory().catch(() => {});
}

function turnOf(turnId, sequence) {
  let turn = current.turns.get(turnId);
  if (!turn) {
    turn = { turnId, sequence: sequence ?? Number.MAX_SAFE_INTEGER, message: "", answer: null, status: "queued" };
    current.turns.set(turnId, turn);
  }
  if (sequence) turn.sequence = sequence;
  return turn;
}

// ---- live events: the session's own event stream, read with fetch so headers (key, token, Last-Event-ID) go along
async function follow(session) {
  let wait = 500;
  while (!session.abort.signal.aborted) {
    try {
      const h = headers({ Accept: "text/event-stream" });
      if (session.lastEventId) h["Last-Event-ID"] = session.lastEventId;
      const response = await fetch(`/Chat/${encodeURIComponent(session.sessionId)}/events`, { headers: h, signal: session.abort.signal });
      if (!response.ok) {
        if (response.status !== 404) showProblem(await response.json().catch(() => ({ title: `HTTP ${response.status}` })));
        throw new Error(`events: ${response.status}`);
      }
      live(true);
      wait = 500;
      await readEvents(response.body, (event) => { session.lastEventId = event.id ?? session.lastEventId; if (session === current) apply(event); });
    } catch (error) {
      if (session.abort.signal.aborted) return;
    }
    live(false);
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 5000);
  }
}

function live(on) {
  $("live").textContent = on ? "live" : "offline";
  $("live").classList.toggle("live", on);
}

/** Server-sent events from a byte stream: id, event and data fields, one event per blank line. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
      if (line === "") {
        if (event.data.length || event.event) onEvent({ id: event.id, type: event.event ?? "message", data: event.data.join("\n") });
        event = { data: [] };
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") event.data.push(text);
        else if (field === "id") event.id = text;
        else if (field === "event") event.event = text;
      }
    }
  }
}

function apply({ type, data }) {
  const e = data ? JSON.parse(data) : {};
  switch (type) {
    case "queued":
      Object.assign(turnOf(e.turnId, e.sequence), { message: e.message, status: "queued" });
      if (e.variant) current.newVariants.add(e.turnId);
      break;
    case "started": Object.assign(turnOf(e.turnId, e.sequence), { status: "running", answer: "" }); break;
    case "reset": turnOf(e.turnId).answer = ""; break;
    case "delta": { const t = turnOf(e.turnId); t.answer = (t.answer ?? "") + e.text; break; }
    case "completed": Object.assign(turnOf(e.turnId), { status: "completed", answer: e.answer, shownToModel: true }); break;
    case "failed": Object.assign(turnOf(e.turnId), { status: "failed", error: `${e.title} ${e.detail ?? ""}` }); break;
    case "cancelled": case "interrupted": case "rolledBack":
      Object.assign(turnOf(e.turnId), { status: type, answer: e.answer ?? null, shownToModel: e.shownToModel }); break;
    case "deleted": current.turns.clear(); $("summary").hidden = true; break;
    case "sync": case "branched": reload(); break;
  }
  if (["started", "completed", "failed", "cancelled", "interrupted", "rolledBack"].includes(type)) loadUsage(500);
  // A new variant's end changes the history's variants: read it again.
  if (["completed", "failed", "cancelled", "interrupted", "rolledBack"].includes(type) && current.newVariants.delete(e.turnId)) { reload(); return; }
  render();
}

// ---- rendering ------------------------------------------------------------------------------------------------
function render() {
  const turns = [...current.turns.values()].sort((a, b) => a.sequence - b.sequence);
  const finished = turns.filter((t) => t.status !== "queued");
  const messages = $("messages");
  // Live events redraw the conversation: an edit being typed keeps its focus and caret.
  const focused = document.activeElement?.id?.startsWith("edit-") ? document.activeElement : null;
  const caret = focused ? [focused.selectionStart, focused.selectionEnd] : null;
  messages.replaceChildren(...finished.map(renderTurn));
  if (focused && $(focused.id)) {
    $(focused.id).focus();
    $(focused.id).setSelectionRange(...caret);
  }
  const waiting = turns.filter((t) => t.status === "queued" || t.status === "running");
  let position = 0;
  $("queue").replaceChildren(...waiting.map((t) => {
    const li = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = t.status === "running"
      ? `running${t.stopping ? ` (stopping: ${t.stopping})` : ""}: ${t.message}`
      : `#${++position} waiting: ${t.message}`;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", `Cancel turn ${t.turnId}`);
    cancel.addEventListener("click", () => cancelTurn(t.turnId));
    li.append(label, cancel);
    return li;
  }));
}

function renderTurn(t) {
  const li = document.createElement("li");
  li.className = "turn" + (t.shownToModel === false ? " hidden-from-model" : "");
  li.dataset.turnId = t.turnId;
  li.dataset.status = t.status;
  const user = document.createElement("div");
  user.className = "bubble user";
  user.textContent = t.message;
  li.append(user);
  // The edit being typed is the page's, not the turn's: it outlives the history read again under it.
  if (current.editing === t.turnId) li.append(editForm(t));
  if (t.answer !== null && t.answer !== undefined || t.status === "running") {
    const answer = document.createElement("div");
    answer.className = "bubble assistant";
    answer.textContent = t.answer ?? "";
    if (t.status === "running") answer.setAttribute("aria-live", "polite");
    li.append(answer);
  }
  const status = document.createElement("div");
  status.className = "status";
  status.textContent = t.status + (t.error ? `: ${t.error}` : "") + (t.shownToModel === false && t.status !== "running" ? " (not shown to the model)" : "");
  li.append(status);
  if (t.status !== "queued" && t.status !== "running") li.append(turnActions(t));
  return li;
}

/** Under a finished turn: its variants' switcher (< 2 / 3 >), and regenerate and edit. */
function turnActions(t) {
  const actions = document.createElement("div");
  actions.className = "turn-actions";
  if (t.variants) {
    const { index, count, sequences } = t.variants;
    const previous = button("<", `Previous variant of turn ${t.turnId}`, () => switchTo(sequences[index - 2]));
    previous.disabled = index <= 1;
    const label = document.createElement("span");
    label.className = "variant";
    label.textContent = `${index} / ${count}`;
    const next = button(">", `Next variant of turn ${t.turnId}`, () => switchTo(sequences[index]));
    next.disabled = index >= count;
    actions.append(previous, label, next);
  }
  const newest = t === [...current.turns.values()].filter((x) => x.status !== "queued" && x.status !== "running").sort((a, b) => b.sequence - a.sequence)[0];
  actions.append(
    button(newest ? "Regenerate" : "Regenerate (new branch)", `Regenerate the answer to turn ${t.turnId}`, () => regenerate(t, !newest)),
    button("Edit", `Edit the message of turn ${t.turnId}`, () => { current.editing = t.turnId; current.draft = null; render(); $(`edit-${t.turnId}`)?.focus(); }));
  return actions;
}

function editForm(t) {
  const form = document.createElement("form");
  form.className = "edit";
  const label = document.createElement("label");
  label.htmlFor = `edit-${t.turnId}`;
  label.textContent = "New message";
  const text = document.createElement("textarea");
  text.id = `edit-${t.turnId}`;
  text.rows = 2;
  text.required = true;
  text.value = current.draft ?? t.message;
  text.addEventListener("input", () => { current.draft = text.value; });
  const cancel = button("Cancel edit", `Cancel the edit of turn ${t.turnId}`, () => { current.editing = null; render(); });
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Send edit";
  form.append(label, text, save, cancel);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    current.editing = null;
    current.draft = null;
    branchRequest(`/turns/${encodeURIComponent(t.turnId)}/edit?sequence=${t.sequence}`, "POST", { message: text.value });
  });
  return form;
}

function button(text, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

// The turn's sequence goes along: a turn archived long ago is found by it.
function regenerate(t, later) {
  return branchRequest(`/turns/${encodeURIComponent(t.turnId)}/regenerate?sequence=${t.sequence}`, "POST", later ? { later: true } : {});
}

function switchTo(sequence) {
  return branchRequest("/branch", "PUT", { sequence });
}

/** A regenerate, edit or switch; every window (this one too) reads the history again on the session's branched event. */
async function branchRequest(path, method, body) {
  try {
    await api(`/Chat/${encodeURIComponent(current.sessionId)}${path}`, {
      method,
      headers: { "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID().replaceAll("-", "") },
      body: JSON.stringify(body),
    });
    $("problem").hidden = true;
    if (method === "PUT") reload();
  } catch { /* shown */ }
  loadUsage(300);
}

// ---- actions --------------------------------------------------------------------------------------------------
$("send").addEventListener("submit", async (e) => {
  e.preventDefault();
  const message = $("message").value;
  const strategy = $("strategy").value;
  const body = strategy ? { message, multitask_strategy: strategy } : { message };
  try {
    await api(`/Chat/${encodeURIComponent(current.sessionId)}/message/send`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID().replaceAll("-", "") },
      body: JSON.stringify(body),
    });
    $("message").value = "";
    $("problem").hidden = true;
    if (!current.listed) { current.listed = true; loadSessions().catch(() => {}); }
  } catch { /* shown */ }
  loadUsage(300);
});

async function cancelTurn(turnId) {
  try {
    await api(`/Chat/${encodeURIComponent(current.sessionId)}/turns/${encodeURIComponent(turnId)}`, { method: "DELETE" });
  } catch { /* shown */ }
}

$("delete-session").addEventListener("click", async () => {
  if (!confirm(`Delete session ${current.sessionId} and everything in it?`)) return;
  try {
    await api(`/Chat/${encodeURIComponent(current.sessionId)}`, { method: "DELETE" });
    current.turns.clear();
    render();
    loadSessions().catch(() => {});
  } catch { /* shown */ }
});

loadSessions().catch(() => {});
loadUsage();
if (params.get("session")) openSession(params.get("session"));
