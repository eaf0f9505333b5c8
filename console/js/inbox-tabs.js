// The queue's tabs (Waiting / Mine / All, each with its count) and its search box.

export const TABS = ["waiting", "mine", "all"];

/** A wait for a person that ran out unclaimed (back with the assistant) and nobody has followed up yet. */
export function isMissed(conversation) {
  return conversation.status === "bot" && Boolean(conversation.missed_at);
}

/** Whether `conversation` belongs in `tab` for attendant `me` (`me.sub` is their id). */
export function inTab(conversation, tab, me) {
  if (tab === "waiting") return conversation.status === "waiting" || isMissed(conversation);
  if (tab === "mine") return conversation.status === "human" && conversation.assigned_to === me.sub;
  return true;
}

/** Whether the conversation's name, number or last message contains `query` (case and accents ignored). */
export function matches(conversation, query) {
  const fold = (text) => String(text || "").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  const wanted = fold(query).trim();
  if (!wanted) return true;
  return [conversation.customer_name, conversation.id, conversation.last_message_preview].some((f) => fold(f).includes(wanted));
}

/** The tab bar: clicking a tab calls `onChange(tab)`; `show(counts, current)` updates the counts and selection. */
export function setUpTabs(bar, onChange) {
  for (const button of bar.querySelectorAll("[data-tab]")) {
    button.addEventListener("click", () => onChange(button.dataset.tab));
  }
  return {
    show(counts, current) {
      for (const button of bar.querySelectorAll("[data-tab]")) {
        const tab = button.dataset.tab;
        button.setAttribute("aria-selected", String(tab === current));
        button.querySelector(".tab-count").textContent = String(counts[tab] ?? 0);
      }
    },
  };
}
