// The attendant's own state in the inbox: who they are (`GET /me`), their availability, and the
// unread counts of the customers they hold.

import { api } from "./api.js";

/** Who the stored token belongs to, as the server says (`GET /me`): the console never decodes tokens. */
export async function whoAmI() {
  const me = await api("GET", "/me");
  return { sub: me.id, name: me.name, role: me.role, available: me.available };
}

/** The Available checkbox's change: save it (`PUT /me/availability`), undo the tick if that fails. */
export async function saveAvailability(box, onProblem) {
  box.disabled = true;
  try {
    box.checked = (await api("PUT", "/me/availability", { available: box.checked })).available;
  } catch (error) {
    box.checked = !box.checked;
    onProblem(error);
  } finally {
    box.disabled = false;
  }
}

/** Customer messages not yet seen in conversations the attendant holds. */
export class UnreadCounts {
  constructor() {
    this.counts = new Map();
  }

  /** Count `message` if its customer is held by `me` and not on screen; true when it was counted. */
  count(message, conversation, me, selectedId) {
    const mine = conversation && conversation.status === "human" && conversation.assigned_to === me.sub;
    if (!mine || message.sender !== "customer") return false;
    if (message.conversation_id === selectedId && !document.hidden) return false;
    this.counts.set(message.conversation_id, (this.counts.get(message.conversation_id) || 0) + 1);
    return true;
  }

  seen(id) {
    this.counts.delete(id);
  }

  clear() {
    this.counts.clear();
  }

  /** Put each count on its queue item (after the queue was drawn). */
  show(list) {
    for (const [id, count] of this.counts) {
      const button = list.querySelector(`.conversation-item[data-id="${CSS.escape(id)}"]`);
      if (!button) continue;
      const badge = document.createElement("span");
      badge.className = "unread";
      badge.textContent = String(count);
      badge.setAttribute("aria-label", `${count} unread`);
      button.append(badge);
    }
  }
}
