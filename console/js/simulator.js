// The WhatsApp simulator: type as a customer; messages go through the real, signed webhook,
// and what the business sends back is read from the outbox and drawn as WhatsApp would.

import { clear, el } from "./dom.js";
import { chatEntry, renderBusinessMessage } from "./whatsapp-view.js";

const API = "/console/simulator/api/messages";
const CUSTOMER_KEY = "supportdesk.simulator.customer";
const SENT_KEY = "supportdesk.simulator.sent.";
const POLL_MS = 1000;
const PAGE_SIZE = 200; // the server's page: a full page means more may follow
const WA_ID = /^[1-9][0-9]{5,14}$/;

const $ = (id) => document.getElementById(id);
const state = { customer: null, after: 0, shown: new Set(), generation: 0, timer: null, polling: false, again: false };

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
  state.customer = customer;
  localStorage.setItem(CUSTOMER_KEY, JSON.stringify(customer));
  $("customer-summary").textContent = `${customer.name} (+${customer.wa_id})`;
  $("customer-wa-id").value = customer.wa_id;
  $("customer-name").value = customer.name;
  state.generation += 1;
  state.after = 0;
  state.shown = new Set();
  clear($("chat"));
  loadHistory(state.generation);
}

function sentLog() {
  try {
    return JSON.parse(sessionStorage.getItem(SENT_KEY + state.customer.wa_id) || "[]");
  } catch {
    return [];
  }
}

function remember(record) {
  const log = sentLog().filter((r) => r.key !== record.key);
  log.push(record);
  sessionStorage.setItem(SENT_KEY + state.customer.wa_id, JSON.stringify(log.slice(-200)));
}

// ---- drawing ---------------------------------------------------------------------------------

function scrollToEnd() {
  const chat = $("chat");
  chat.scrollTop = chat.scrollHeight;
}

function customerEntry(record) {
  const meta = record.state === "failed" ? `⚠ not sent: ${record.reason || ""}`
    : record.state === "sending" ? "🕓" : "✓";
  return chatEntry({
    from: "customer",
    body: [el("p", { class: "wa-text", text: record.text })],
    meta,
    time: record.time,
    dataset: { key: record.key, state: record.state },
  });
}

function businessEntry(row) {
  const { body, controls } = renderBusinessMessage(row.message, { reply: sendReply, openList });
  return chatEntry({
    from: "business",
    body,
    controls,
    meta: row.origin === "attendant" ? "Attendant" : row.origin === "system" ? "Notice" : "Bot",
    time: row.created_at,
    dataset: { id: String(row.id), origin: row.origin, kind: row.message?.interactive?.type || row.message?.type },
  });
}

function showBusiness(rows) {
  for (const row of rows) {
    if (state.shown.has(row.id)) continue;
    state.shown.add(row.id);
    $("chat").append(businessEntry(row));
  }
  if (rows.length) scrollToEnd();
}

function problem(text) {
  $("problem").textContent = text || "";
  $("problem").hidden = !text;
}

// ---- talking to the server ---------------------------------------------------------------------

async function fetchReplies(after) {
  const query = new URLSearchParams({ wa_id: state.customer.wa_id, after: String(after) });
  const answer = await fetch(`${API}?${query}`, { cache: "no-store" });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data.message || `The server answered ${answer.status}.`);
  return data;
}

async function loadHistory(generation) {
  let rows = [];
  let after = 0;
  try {
    for (;;) {
      const page = await fetchReplies(after);
      rows = rows.concat(page.messages);
      const moved = page.after !== after;
      after = page.after;
      if (page.messages.length < PAGE_SIZE || !moved) break;
    }
  } catch (error) {
    problem(error.message);
  }
  if (generation !== state.generation) return;
  const entries = [
    ...rows.filter((row) => !state.shown.has(row.id)).map((row) => ({ time: row.created_at, node: () => { state.shown.add(row.id); return businessEntry(row); } })),
    ...sentLog().map((record) => ({ time: record.time, node: () => customerEntry(record) })),
  ].sort((a, b) => String(a.time).localeCompare(String(b.time)));
  for (const entry of entries) $("chat").append(entry.node());
  state.after = Math.max(state.after, after);
  scrollToEnd();
  schedulePoll(POLL_MS);
}

async function poll() {
  if (state.polling) {
    state.again = true;
    return;
  }
  state.polling = true;
  const generation = state.generation;
  try {
    const page = await fetchReplies(state.after);
    if (generation === state.generation) {
      showBusiness(page.messages);
      state.after = page.after;
      if ($("problem").dataset.kind === "poll") problem("");
    }
  } catch (error) {
    problem(`${error.message} Retrying…`);
    $("problem").dataset.kind = "poll";
  } finally {
    state.polling = false;
  }
  schedulePoll(state.again ? 0 : POLL_MS);
  state.again = false;
}

function schedulePoll(delay) {
  clearTimeout(state.timer);
  state.timer = setTimeout(poll, delay);
}

async function send(payload, label) {
  const record = { key: `${Date.now()}-${Math.random().toString(36).slice(2)}`, text: label, time: new Date().toISOString(), state: "sending" };
  const item = customerEntry(record);
  $("chat").append(item);
  scrollToEnd();
  try {
    const answer = await fetch(API, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...payload, wa_id: state.customer.wa_id, name: state.customer.name }),
    });
    const data = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error(data.message || `The server answered ${answer.status}.`);
    record.state = "sent";
    problem("");
  } catch (error) {
    record.state = "failed";
    record.reason = error.message;
    problem(`Not sent: ${error.message}`);
    $("problem").dataset.kind = "send";
  }
  item.replaceWith(customerEntry(record));
  remember(record);
  schedulePoll(300);
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
  useCustomer(loadCustomer());
}

start();
