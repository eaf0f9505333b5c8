// Rendering of the inbox's parts: queue and history. Text goes in as textContent.

import { deliveryLabel } from "./delivery-status.js";
import { mediaBlock } from "./media.js";
import { clear, clockTime, el, elapsed, formattedText } from "./dom.js";

const STATUS_ORDER = { waiting: 0, human: 1, bot: 2, closed: 3 };
const STATUS_LABEL = { waiting: "Waiting", human: "With a person", bot: "Bot", closed: "Closed" };

/** Waiting first (longest wait on top), then held, bot and closed, each newest activity first. */
export function sortConversations(conversations) {
  return [...conversations].sort((a, b) => {
    const byStatus = (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9);
    if (byStatus) return byStatus;
    if (a.status === "waiting") return String(a.waiting_since).localeCompare(String(b.waiting_since));
    return String(b.last_message_at).localeCompare(String(a.last_message_at));
  });
}

export function displayName(conversation) {
  return conversation.customer_name || `+${conversation.id}`;
}

function queueItemContent(conversation, me, now) {
  const status = conversation.status;
  let detail = STATUS_LABEL[status] || status;
  if (status === "waiting") detail = `Waiting ${elapsed(conversation.waiting_since, now)}`;
  if (status === "human") {
    detail = conversation.assigned_to === me.sub ? "With you" : `With ${conversation.assigned_to}`;
  }
  return [
    el("span", { class: "name", text: displayName(conversation) }),
    el("span", { class: `badge badge-${status}`, text: detail }),
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
  const sorted = sortConversations(conversations);
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
    button.className = `conversation-item status-${conversation.status}`;
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
