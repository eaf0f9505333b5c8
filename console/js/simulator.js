// The WhatsApp simulator: type as a customer; messages go through the real, signed webhook,
// and what the business sends back is read from the outbox and drawn as WhatsApp would.

import { clear, el } from "./dom.js";
import { businessMedia, setUpCustomerMedia } from "./simulator-media.js";
import { chatEntry, renderBusinessMessage } from "./whatsapp-view.js";

const API = "/console/simulator/api/messages";
const CUSTOMER_KEY = "supportdesk.simulator.customer";
const SENT_KEY = "supportdesk.simulator.sent.";
const POLL_MS = 1000;
const PAGE_SIZE = 200; // the server's page: a full page means more may follow
const WA_ID = /^[1-9][0-9]{5,14}$/;

const $ = (id) => document.getElementById(id);
// The chat of the customer being simulated. Switching customer stops it for good (no timer left,
// its request in flight cancelled, late answers ignored) and starts a new one.
let chat = null;

// ---- the simulated customer -----------------------------------------------------------------

function randomCustomer() {
  const digits = Array.from(crypto.getRandomValues(new Uint8Array(7)), (b) => b % 10).join("");
  return { wa_id: `1555${digits}`, name: `Customer ${digits.slice(-4)}` };
}

function loadCustomer() {
  try {
    const saved = JSON.parse(localStorage.getItem(CUSTOMER_KEY) || "null");
    if (saved && WA_ID.test(saved.wa_id)) return saved;
  } catch {
    /* a damaged entry: start with a new customer */
  }
  return randomCustomer();
}

function useCustomer(customer) {
  if (chat) stopChat(chat);
  localStorage.setItem(CUSTOMER_KEY, JSON.stringify(customer));
  $("customer-summary").textContent = `${customer.name} (+${customer.wa_id})`;
  $("customer-wa-id").value = customer.wa_id;
  $("customer-name").value = customer.name;
  clear($("chat"));
  problem("");
  chat = {
    customer,
    after: 0, // the outbox id the next poll starts after
    shown: new Set(), // outbox ids already drawn
    loaded: false, // polls start once the history is drawn
    timer: null,
    polling: false,
    again: false,
    requests: new AbortController(),
    stopped: false,
  };
  loadHistory(chat);
}

function stopChat(old) {
  old.stopped = true;
  clearTimeout(old.timer);
  old.requests.abort();
}

function sentLog(customer) {
  try {
    return JSON.parse(sessionStorage.getItem(SENT_KEY + customer.wa_id) || "[]");
  } catch {
    return [];
  }
}

function remember(customer, record) {
  const log = sentLog(customer).filter((r) => r.key !== record.key);
  log.push(record);
  sessionStorage.setItem(SENT_KEY + customer.wa_id, JSON.stringify(log.slice(-200)));
}

// ---- drawing ---------------------------------------------------------------------------------

function scrollToEnd() {
  const box = $("chat");
  box.scrollTop = box.scrollHeight;
}

function customerEntry(record, preview = null) {
  const meta = record.state === "failed" ? `⚠ not sent: ${record.reason || ""}`
    : record.state === "sending" ? "🕓" : "✓";
  return chatEntry({
    from: "customer",
    body: [preview ? preview() : null, el("p", { class: "wa-text", text: record.text })],
    meta,
    time: record.time,
    dataset: { key: record.key, state: record.state },
  });
}

function businessEntry(row) {
  const media = businessMedia(row);
  const { body, controls } = media ? { body: media, controls: null } : renderBusinessMessage(row.message, { reply: sendReply, openList });
  return chatEntry({
    from: "business",
    body,
    controls,
    meta: row.origin === "attendant" ? "Attendant" : row.origin === "system" ? "Notice" : "Bot",
    time: row.created_at,
    dataset: { id: String(row.id), origin: row.origin, kind: row.message?.interactive?.type || row.message?.type },
  });
}

function showBusiness(current, rows) {
  for (const row of rows) {
    if (current.shown.has(row.id)) continue;
    current.shown.add(row.id);
    $("chat").append(businessEntry(row));
  }
  if (rows.length) scrollToEnd();
}

function problem(text) {
  $("problem").textContent = text || "";
  $("problem").hidden = !text;
  if (!text) delete $("problem").dataset.kind;
}

// ---- talking to the server ---------------------------------------------------------------------

async function fetchReplies(current, after) {
  const query = new URLSearchParams({ wa_id: current.customer.wa_id, after: String(after) });
  const answer = await fetch(`${API}?${query}`, { cache: "no-store", signal: current.requests.signal });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data.message || `The server answered ${answer.status}.`);
  return data;
}

async function loadHistory(current) {
  let rows = [];
  let after = 0;
  try {
    for (;;) {
      const page = await fetchReplies(current, after);
      rows = rows.concat(page.messages);
      const moved = page.after !== after;
      after = page.after;
      if (page.messages.length < PAGE_SIZE || !moved) break;
    }
  } catch (error) {
    if (!current.stopped) problem(error.message);
  }
  if (current.stopped) return;
  const entries = [
    ...rows.filter((row) => !current.shown.has(row.id)).map((row) => ({ time: row.created_at, node: () => { current.shown.add(row.id); return businessEntry(row); } })),
    ...sentLog(current.customer).map((record) => ({ time: record.time, node: () => customerEntry(record) })),
  ].sort((a, b) => String(a.time).localeCompare(String(b.time)));
  for (const entry of entries) $("chat").append(entry.node());
  current.after = Math.max(current.after, after);
  current.loaded = true;
  scrollToEnd();
  schedulePoll(current, POLL_MS);
}

async function poll(current) {
  if (current.polling) {
    current.again = true;
    return;
  }
  current.polling = true;
  try {
    const page = await fetchReplies(current, current.after);
    if (current.stopped) return;
    showBusiness(current, page.messages);
    current.after = page.after;
    if ($("problem").dataset.kind === "poll") problem("");
  } catch (error) {
    if (current.stopped) return; // cancelled by the switch, or a late failure of the old customer
    problem(`${error.message} Retrying…`);
    $("problem").dataset.kind = "poll";
  } finally {
    current.polling = false;
  }
  schedulePoll(current, current.again ? 0 : POLL_MS);
  current.again = false;
}

function schedulePoll(current, delay) {
  if (current.stopped || !current.loaded) return;
  clearTimeout(current.timer);
  current.timer = setTimeout(() => poll(current), delay);
}

async function postMessage(body) {
  const answer = await fetch(API, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data.message || `The server answered ${answer.status}.`);
}

/** Send as the customer: `post(body)` delivers it (a message by default, a file from simulator-media.js). */
async function send(payload, label, { post = postMessage, preview = null } = {}) {
  const current = chat;
  const record = { key: `${Date.now()}-${Math.random().toString(36).slice(2)}`, text: label, time: new Date().toISOString(), state: "sending" };
  const item = customerEntry(record, preview);
  $("chat").append(item);
  scrollToEnd();
  try {
    await post({ ...payload, wa_id: current.customer.wa_id, name: current.customer.name });
    record.state = "sent";
  } catch (error) {
    record.state = "failed";
    record.reason = error.message;
  }
  remember(current.customer, record);
  if (current.stopped) return; // sent as the customer before the switch: their chat is no longer shown
  if (record.state === "failed") {
    problem(`Not sent: ${record.reason}`);
    $("problem").dataset.kind = "send";
  } else {
    problem("");
  }
  item.replaceWith(customerEntry(record, preview));
  schedulePoll(current, 300);
}

function sendReply(reply, kind) {
  if (!reply?.id || !reply?.title) return;
  send({ reply: { id: reply.id, title: reply.title }, kind }, reply.title);
}

// ---- list messages ----------------------------------------------------------------------------

function openList(interactive) {
  const dialog = $("list-dialog");
  const sections = $("list-sections");
  clear(sections);
  $("list-title").textContent = interactive.action?.button || "Options";
  let index = 0;
  for (const section of interactive.action?.sections || []) {
    const rows = (section.rows || []).map((row) => {
      const id = `list-row-${index++}`;
      const input = el("input", { type: "radio", name: "list-row", id, value: row.id });
      input.reply = { id: row.id, title: row.title };
      return el("div", { class: "list-row" }, input,
        el("label", { for: id }, el("span", { class: "row-title", text: row.title }),
          row.description ? el("span", { class: "row-description", text: row.description }) : null));
    });
    sections.append(el("fieldset", {}, el("legend", { text: section.title || "Options" }), rows));
  }
  dialog.showModal();
  const first = sections.querySelector("input");
  if (first) first.focus();
}

function listSubmitted(event) {
  event.preventDefault();
  const dialog = $("list-dialog");
  if (event.submitter?.value === "cancel") {
    dialog.close();
    return;
  }
  const chosen = $("list-sections").querySelector("input:checked");
  if (!chosen) {
    const first = $("list-sections").querySelector("input");
    if (first) first.focus();
    return;
  }
  dialog.close();
  sendReply(chosen.reply, "list");
}

// ---- wiring -----------------------------------------------------------------------------------

function start() {
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("message").value;
    if (!text.trim()) return;
    $("message").value = "";
    send({ text }, text);
    $("message").focus();
  });
  $("customer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const waId = $("customer-wa-id").value.trim();
    if (!WA_ID.test(waId)) {
      $("customer-wa-id").setAttribute("aria-invalid", "true");
      $("customer-wa-id").reportValidity();
      return;
    }
    $("customer-wa-id").removeAttribute("aria-invalid");
    useCustomer({ wa_id: waId, name: $("customer-name").value.trim() || "Customer" });
    $("customer").open = false;
    $("message").focus();
  });
  $("new-customer").addEventListener("click", () => {
    useCustomer(randomCustomer());
    $("customer").open = false;
    $("message").focus();
  });
  $("list-form").addEventListener("submit", listSubmitted);
  setUpCustomerMedia({ composer: $("composer"), box: $("message"), send, tell: problem });
  useCustomer(loadCustomer());
}

start();
