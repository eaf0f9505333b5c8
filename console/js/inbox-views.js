// Rendering of the inbox's parts: queue and history. Text goes in as textContent.

import { deliveryLabel } from "./delivery-status.js";
import { mediaBlock } from "./media.js";
import { clear, clockTime, el, elapsed, formattedText } from "./dom.js";
import { isMissed } from "./inbox-tabs.js";

/** Whether `conversation` is held by attendant `me` (`me.sub` is their id). */
export function isMine(conversation, me) {
  return conversation.status === "human" && conversation.assigned_to === me.sub;
}

/** Queue order: mine pinned on top, then waiting, held by others, with the assistant, resolved. */
function rank(conversation, me) {
  if (isMine(conversation, me)) return 0;
  if (isMissed(conversation)) return 1; // missed requests stay with the waiting ones until followed up
  return { waiting: 1, human: 2, bot: 3, closed: 4 }[conversation.status] ?? 9;
}

/** Mine first (newest activity on top), then waiting (longest wait on top), then the rest, newest activity first. */
export function sortConversations(conversations, me) {
  return [...conversations].sort((a, b) => {
    const byRank = rank(a, me) - rank(b, me);
    if (byRank) return byRank;
    if (a.status === "waiting") return String(a.waiting_since).localeCompare(String(b.waiting_since));
    return String(b.last_message_at).localeCompare(String(a.last_message_at));
  });
}

/** Who has the customer now, in an attendant's words: "Waiting for a person · 4 min", "With you", "Assistant answering"… */
export function statusWords(conversation, me, now = Date.now()) {
  const { status } = conversation;
  if (status === "waiting") return `Waiting for a person · ${elapsed(conversation.waiting_since, now)}`;
  if (isMissed(conversation)) return `Missed request · ${elapsed(conversation.missed_at, now)}`;
  if (status === "human") return isMine(conversation, me) ? "With you" : `With ${conversation.assigned_to}`;
  return { bot: "Assistant answering", closed: "Resolved" }[status] || status;
}

export function displayName(conversation) {
  return conversation.customer_name || `+${conversation.id}`;
}

function queueItemContent(conversation, me, now) {
  return [
    el("span", { class: "name", text: displayName(conversation) }),
    el("span", { class: `badge badge-${isMissed(conversation) ? "missed" : conversation.status}`, text: statusWords(conversation, me, now) }),
    el("span", { class: "preview", text: conversation.last_message_preview || "" }),
    el("span", { class: "when", text: clockTime(conversation.last_message_at) }),
  ];
}

/**
 * The queue list; `onSelect(id)` when one is picked. Items are updated in place and moved only
 * when their order changes, so live updates never take the keyboard focus away from an item.
 */
export function renderQueue(list, conversations, selectedId, me, onSelect) {
  const now = Date.now();
  const sorted = sortConversations(conversations, me);
  const listed = new Set(sorted.map((conversation) => conversation.id));
  const existing = new Map();
  for (const item of [...list.children]) {
    if (listed.has(item.dataset.id)) existing.set(item.dataset.id, item);
    else item.remove(); // first, so that the items after it need not move
  }
  sorted.forEach((conversation, index) => {
    let item = existing.get(conversation.id);
    if (!item) {
      const button = el("button", { type: "button", onclick: () => onSelect(conversation.id) });
      item = el("li", { dataset: { id: conversation.id } }, button);
    }
    const button = item.firstElementChild;
    button.className = `conversation-item status-${conversation.status}${isMine(conversation, me) ? " mine" : ""}`;
    button.dataset.id = conversation.id;
    button.dataset.status = conversation.status;
    if (conversation.id === selectedId) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
    button.replaceChildren(...queueItemContent(conversation, me, now));
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
  });
}

function deliveryMark(message) {
  if (!message.status) return null;
  const { mark, words } = deliveryLabel(message.status);
  const reason = message.status === "failed" && message.status_reason ? `: ${message.status_reason}` : "";
  return el(
    "span",
    { class: `tick tick-${message.status}`, dataset: { status: message.status }, title: `${words}${reason}` },
    el("span", { "aria-hidden": "true", text: mark }),
    el("span", { class: "visually-hidden", text: ` ${words}${reason}` }),
  );
}

/** One history entry. */
export function messageItem(message) {
  const sender = message.sender || "bot";
  const who = sender === "attendant" ? `Attendant ${message.attendant_id || ""}`.trim()
    : sender === "note" ? `Internal note ${message.attendant_id || ""}`.trim()
    : sender === "customer" ? "Customer" : "Bot";
  return el(
    "li",
    { class: `message from-${sender}`, dataset: { id: message.id, sender } },
    el("p", { class: "message-who" }, el("span", { text: who }), " ",
      el("time", { datetime: message.timestamp || undefined, text: clockTime(message.timestamp) })),
    mediaBlock(message),
    el("p", { class: "message-text" }, formattedText(message.text)),
    deliveryMark(message),
  );
}

/** Replace the history with `messages` and keep the newest in view. */
export function renderHistory(list, messages) {
  clear(list);
  for (const message of messages) list.append(messageItem(message));
  list.scrollTop = list.scrollHeight;
}
