// The attendant inbox: sign in with a token, watch the queue live, claim, reply, release.

import { API_BASE, ApiError, attendantApi, cancelRequests, isCancelled, tokenStore } from "./api.js";
import { AppointmentPanel } from "./appointments.js";
import { setUpComposerTools } from "./composer-tools.js";
import { inTab, matches, setUpTabs, TABS } from "./inbox-tabs.js";
import { saveAvailability, UnreadCounts, whoAmI } from "./workspace.js";
import { HistoryView } from "./history.js";
import { setUpLifecycle } from "./lifecycle.js";
import { displayName, renderQueue } from "./inbox-views.js";
import { alertAttendant, notice, offerSimulator, setUpNotices } from "./notices.js";
import { openStream } from "./sse.js";

const $ = (id) => document.getElementById(id);
const REFRESH_DEBOUNCE_MS = 400;
const CLOCK_TICK_MS = 15000;
const REFUSED = "Your token was refused or has expired. Paste a new one.";

const state = {
  me: null,
  conversations: new Map(),
  selectedId: null,
  stream: null,
  refreshTimer: null,
  clockTimer: null,
  tab: "all",
  search: "",
};
const appointments = new AppointmentPanel({
  list: $("appointment-list"),
  empty: $("appointments-empty"),
  onOpen: (id) => select(id),
  tell: notice,
  onProblem: explain,
});
const historyView = new HistoryView($("history"));
const unread = new UnreadCounts();
let lifecycle = null; // window countdown, template picker, resolve (set up in start)
const tabs = setUpTabs($("queue-tabs"), (tab) => {
  state.tab = tab;
  renderQueueNow();
});

function explain(error) {
  if (isCancelled(error)) return; // signed out meanwhile
  if (error instanceof ApiError && error.status === 401) {
    if (state.me) signOut(REFUSED);
    return;
  }
  notice(error.message || "Something went wrong.");
}

// ---- sign in / out -------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const token = $("token").value.trim().replace(/^Bearer\s+/i, "");
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
    $("sign-in-error").textContent = "That does not look like an attendant token (three parts separated by dots).";
    $("token").focus();
    return;
  }
  tokenStore.set(token);
  let me;
  try {
    me = await whoAmI();
  } catch (error) {
    tokenStore.clear();
    $("sign-in-error").textContent = error instanceof ApiError && error.status === 401
      ? `The server refused this token: ${error.message}`
      : error.message;
    $("token").focus();
    return;
  }
  $("token").value = "";
  enter(me);
}

function enter(claims) {
  state.me = claims;
  $("sign-in").hidden = true;
  $("sign-in-error").textContent = "";
  $("desk").hidden = false;
  $("session").hidden = false;
  $("who").textContent = `${claims.name || claims.sub} (${claims.role})`;
  $("available").checked = Boolean(claims.available);
  state.stream = openStream(`${API_BASE}/stream`, {
    token: () => tokenStore.get(),
    onEvent: handleEvent,
    onState: streamState,
  });
  state.clockTimer = setInterval(renderQueueNow, CLOCK_TICK_MS);
  refreshAll();
}

/** Leave the desk: nothing of the session keeps running (stream, timers, calls in flight) or stays shown. */
function signOut(reason = "") {
  tokenStore.clear();
  cancelRequests();
  if (state.stream) state.stream.stop();
  clearTimeout(state.refreshTimer);
  clearInterval(state.clockTimer);
  Object.assign(state, {
    me: null, conversations: new Map(), selectedId: null, stream: null, refreshTimer: null, clockTimer: null,
  });
  unread.clear();
  appointments.clear();
  historyView.clear();
  notice("");
  $("conversation-list").replaceChildren();
  document.body.classList.remove("viewing");
  $("conversation-title").textContent = "Pick a conversation";
  $("conversation-meta").textContent = "";
  for (const id of ["claim", "release", "reply-form", "resolve", "template-form", "window-state", "opted-out-badge"]) $(id).hidden = true;
  $("conversation-hint").textContent = "Pick a conversation from the queue to read it.";
  $("desk").hidden = true;
  $("session").hidden = true;
  $("sign-in").hidden = false;
  $("stream-state").textContent = "";
  $("sign-in-error").textContent = reason;
  $("history").hidden = true;
  document.title = "Support inbox";
  $("token").focus();
}

function streamState(value) {
  const words = { connecting: "Connecting…", open: "Live", reconnecting: "Reconnecting…", unauthorized: "" };
  $("stream-state").textContent = words[value] ?? "";
  $("stream-state").dataset.state = value;
  if (value === "open") refreshAll(); // events missed before the stream (re)opened
  if (value === "unauthorized") signOut(REFUSED);
}

// ---- data ----------------------------------------------------------------------------------

async function refreshAll() {
  await Promise.all([refreshConversations(), appointments.refresh()]);
  if (state.selectedId) await loadConversation(state.selectedId);
}

async function refreshConversations() {
  try {
    const { conversations } = await attendantApi.conversations();
    state.conversations = new Map(conversations.map((c) => [c.id, c]));
    renderQueueNow();
  } catch (error) {
    explain(error);
  }
}

function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    refreshConversations();
  }, REFRESH_DEBOUNCE_MS);
}

/** Show conversation `id` and its whole history (stream messages arriving meanwhile are merged in). */
async function loadConversation(id) {
  const load = historyView.startLoading(id);
  try {
    const [conversation, { messages }] = await Promise.all([attendantApi.conversation(id), attendantApi.messages(id)]);
    if (!historyView.isCurrent(load)) return; // another conversation, or a newer load of this one, took over
    state.conversations.set(id, conversation);
    renderConversation();
    historyView.loaded(load, messages);
    renderQueueNow();
  } catch (error) {
    historyView.failed(load);
    explain(error);
  }
}

// ---- live events ---------------------------------------------------------------------------

function handleEvent({ event, data }) {
  if (event === "conversation.updated") {
    const before = state.conversations.get(data.id);
    state.conversations.set(data.id, data);
    if (data.status === "waiting" && before?.status !== "waiting") customerWaits(data);
    if (data.id === state.selectedId) renderConversation();
    renderQueueNow();
  } else if (event === "message.created" || event === "message.status") {
    historyView.receive({ event, data }, state.selectedId);
    if (event === "message.created") {
      myCustomerWrote(data);
      refreshSoon();
    }
  } else if (event.startsWith("appointment.")) {
    appointments.update(data);
  }
}

/** A message from a customer I hold, in a conversation I am not looking at: count it and tell me. */
function myCustomerWrote(message) {
  const conversation = state.conversations.get(message.conversation_id);
  if (!unread.count(message, conversation, state.me, state.selectedId)) return;
  alertAttendant(`${displayName(conversation)} wrote`, message.text || "", `message-${conversation.id}`, () => select(conversation.id));
  renderQueueNow();
}

function customerWaits(conversation) {
  const body = `${displayName(conversation)} is waiting for a person.`;
  alertAttendant("A customer is waiting", body, `waiting-${conversation.id}`, () => select(conversation.id));
}

// ---- rendering -----------------------------------------------------------------------------

function renderQueueNow() {
  if (!state.me) return;
  const conversations = [...state.conversations.values()];
  const counts = Object.fromEntries(TABS.map((tab) => [tab, conversations.filter((c) => inTab(c, tab, state.me)).length]));
  tabs.show(counts, state.tab);
  const shown = conversations.filter((c) => inTab(c, state.tab, state.me) && matches(c, state.search));
  renderQueue($("conversation-list"), shown, state.selectedId, state.me, select);
  unread.show($("conversation-list"));
  $("queue-empty").hidden = shown.length > 0;
  const waiting = conversations.filter((c) => c.status === "waiting").length;
  $("waiting-count").textContent = waiting ? `(${waiting} waiting)` : "";
  document.title = waiting ? `(${waiting}) Support inbox` : "Support inbox";
}

function renderConversation() {
  const conversation = state.conversations.get(state.selectedId);
  if (!conversation) return;
  const mine = conversation.status === "human" && conversation.assigned_to === state.me.sub;
  const held = conversation.status === "human" ? `held by ${conversation.assigned_to}` : conversation.status;
  $("conversation-title").textContent = displayName(conversation);
  $("conversation-meta").textContent = `+${conversation.id} · ${held}`
    + (conversation.handoff_reason && conversation.status !== "bot" ? ` · ${conversation.handoff_reason}` : "");
  $("conversation-summary").textContent = conversation.summary || "";
  $("conversation-summary").hidden = !conversation.summary;
  $("conversation").dataset.status = conversation.status;
  $("history").hidden = false;
  $("claim").hidden = !["waiting", "bot"].includes(conversation.status);
  $("release").hidden = !(mine || (conversation.status === "human" && state.me.role === "admin"));
  $("reply-form").hidden = !mine;
  lifecycle?.render();
  $("conversation-hint").textContent = mine ? ""
    : conversation.status === "human" ? `${conversation.assigned_to} is answering this customer.`
      : "Claim the conversation to answer the customer yourself.";
}

// ---- actions -------------------------------------------------------------------------------

async function select(id) {
  state.selectedId = id;
  unread.seen(id);
  historyView.clear();
  document.body.classList.add("viewing");
  renderConversation();
  renderQueueNow();
  await loadConversation(id);
  if (state.selectedId === id) $("conversation").focus();
}

async function act(button, work) {
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      notice(error.message);
      await loadConversation(state.selectedId);
    } else {
      explain(error);
    }
  } finally {
    button.disabled = false;
  }
}

async function claim() {
  await act($("claim"), async () => {
    const conversation = await attendantApi.claim(state.selectedId);
    state.conversations.set(conversation.id, conversation);
    renderConversation();
    renderQueueNow();
    $("reply-text").focus();
  });
}

/** True when the customer wrote last (internal notes aside): releasing now would leave them unanswered. */
function customerUnanswered() {
  const said = historyView.messages.filter((message) => message.sender !== "note");
  return said.length > 0 && said[said.length - 1].sender === "customer";
}

async function release() {
  if (customerUnanswered() && !window.confirm("The customer's last message has no answer yet. Release to the bot anyway?")) return;
  await act($("release"), async () => {
    const conversation = await attendantApi.release(state.selectedId);
    state.conversations.set(conversation.id, conversation);
    renderConversation();
    renderQueueNow();
    notice(`${displayName(conversation)} is back with the bot.`);
  });
}

async function reply(event) {
  event.preventDefault();
  const box = $("reply-text");
  const text = box.value.trim();
  if (!text) return;
  const button = $("reply-form").querySelector("button[type=submit]");
  await act(button, async () => {
    const answer = await attendantApi.reply(state.selectedId, text);
    historyView.upsert(answer.message || { id: answer.id, sender: "attendant", text, status: "pending" });
    box.value = "";
    box.focus();
  });
}

// ---- wiring --------------------------------------------------------------------------------

function start() {
  offerSimulator($("simulator-link"));
  setUpNotices($("notify"));
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut());
  $("claim").addEventListener("click", claim);
  $("release").addEventListener("click", release);
  $("reply-form").addEventListener("submit", reply);
  lifecycle = setUpLifecycle({
    windowState: $("window-state"), badge: $("opted-out-badge"), resolveButton: $("resolve"), replyForm: $("reply-form"),
    form: $("template-form"), select: $("template-name"), fields: $("template-parameters"), preview: $("template-preview"),
    current: () => state.conversations.get(state.selectedId), me: () => state.me, tell: notice,
    onSent: (message) => historyView.upsert(message),
    onChanged: (conversation) => {
      state.conversations.set(conversation.id, conversation);
      renderConversation();
      renderQueueNow();
    },
  });
  $("queue-search").addEventListener("input", (event) => {
    state.search = event.target.value;
    renderQueueNow();
  });
  setUpComposerTools({
    form: $("reply-form"), box: $("reply-text"), suggest: $("suggest"), note: $("add-note"), list: $("shortcut-list"),
    current: () => state.conversations.get(state.selectedId), tell: notice, onNote: (message) => historyView.upsert(message),
  });
  $("reply-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });
  $("back").addEventListener("click", () => {
    document.body.classList.remove("viewing");
    const current = document.querySelector(`.conversation-item[data-id="${CSS.escape(state.selectedId || "")}"]`);
    (current || $("conversation-list")).focus();
  });
  $("available").addEventListener("change", (event) => saveAvailability(event.target, explain));
  if (!tokenStore.get()) {
    signOut();
    return;
  }
  whoAmI().then(enter).catch((error) => signOut(
    error instanceof ApiError && error.status === 401 ? "Your token has expired. Paste a new one." : error.message,
  ));
}

start();
