// The attendant inbox: sign in with a token, watch the queue live, claim, reply, release.
// This module holds the session (sign in/out, the stream, refreshes); the queue is conversation-list.js
// and the open conversation conversation-view.js.

import { API_BASE, ApiError, attendantApi, cancelRequests, isCancelled, tokenStore } from "./api.js";
import { AppointmentPanel } from "./appointments.js";
import { setUpConversationList } from "./conversation-list.js";
import { setUpConversationView } from "./conversation-view.js";
import { saveAvailability, UnreadCounts, whoAmI } from "./workspace.js";
import { HistoryView } from "./history.js";
import { forgetMedia } from "./media.js";
import { displayName } from "./inbox-views.js";
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
const historyView = new HistoryView($("history"));
const unread = new UnreadCounts();
const list = setUpConversationList({ state, unread, onSelect: (id) => view.select(id) });
const view = setUpConversationView({ state, historyView, unread, onListChanged: list.render, explain, tell: notice });
const appointments = new AppointmentPanel({
  list: $("appointment-list"),
  empty: $("appointments-empty"),
  onOpen: (id) => view.select(id),
  tell: notice,
  onProblem: explain,
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
  state.clockTimer = setInterval(list.render, CLOCK_TICK_MS);
  refreshAll();
}

/** Leave the desk: nothing of the session keeps running (stream, timers, calls in flight) or stays shown. */
function signOut(reason = "") {
  tokenStore.clear();
  cancelRequests();
  forgetMedia();
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
  for (const id of ["claim", "release", "reply-form", "resolve", "template-form", "window-state", "opted-out-badge",
    "conversation-reason", "conversation-summary"]) $(id).hidden = true;
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
  if (state.selectedId) await view.load(state.selectedId);
}

async function refreshConversations() {
  try {
    const { conversations } = await attendantApi.conversations();
    state.conversations = new Map(conversations.map((c) => [c.id, c]));
    list.render();
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

// ---- live events ---------------------------------------------------------------------------

function handleEvent({ event, data }) {
  if (event === "conversation.updated") {
    const before = state.conversations.get(data.id);
    state.conversations.set(data.id, data);
    if (data.status === "waiting" && before?.status !== "waiting") customerWaits(data);
    if (data.id === state.selectedId) view.render();
    list.render();
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
  alertAttendant(`${displayName(conversation)} wrote`, message.text || "", `message-${conversation.id}`, () => view.select(conversation.id));
  list.render();
}

function customerWaits(conversation) {
  const body = `${displayName(conversation)} is waiting for a person.`;
  alertAttendant("A customer is waiting", body, `waiting-${conversation.id}`, () => view.select(conversation.id));
}

// ---- wiring --------------------------------------------------------------------------------

function start() {
  offerSimulator($("simulator-link"));
  setUpNotices($("notify"));
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut());
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
