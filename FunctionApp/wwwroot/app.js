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

// ---- one session ----------------------------------------------------------------------------------------------
/** The session on screen: its turns by id (sequence, message, status, answer), and the live events' reader. */
let current = null;

async function openSession(sessionId) {
  current?.abort.abort();
  current = { sessionId, turns: new Map(), previousPage: null, abort: new AbortController(), lastEventId: null };
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
    case "queued": Object.assign(turnOf(e.turnId, e.sequence), { message: e.message, status: "queued" }); break;
    case "started": Object.assign(turnOf(e.turnId, e.sequence), { status: "running", answer: "" }); break;
    case "reset": turnOf(e.turnId).answer = ""; break;
    case "delta": { const t = turnOf(e.turnId); t.answer = (t.answer ?? "") + e.text; break; }
    case "completed": Object.assign(turnOf(e.turnId), { status: "completed", answer: e.answer, shownToModel: true }); break;
    case "failed": Object.assign(turnOf(e.turnId), { status: "failed", error: `${e.title} ${e.detail ?? ""}` }); break;
    case "cancelled": case "interrupted": case "rolledBack":
      Object.assign(turnOf(e.turnId), { status: type, answer: e.answer ?? null, shownToModel: e.shownToModel }); break;
    case "deleted": current.turns.clear(); $("summary").hidden = true; break;
    case "sync": current.turns.clear(); loadHistory().catch(() => {}); break;
  }
  render();
}

// ---- rendering ------------------------------------------------------------------------------------------------
function render() {
  const turns = [...current.turns.values()].sort((a, b) => a.sequence - b.sequence);
  const finished = turns.filter((t) => t.status !== "queued");
  const messages = $("messages");
  messages.replaceChildren(...finished.map(renderTurn));
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
  return li;
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
if (params.get("session")) openSession(params.get("session"));
