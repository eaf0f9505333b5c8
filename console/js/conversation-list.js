// The queue column: tabs with counts, search, the list itself, unread counts and the waiting count in the title.

import { inTab, matches, setUpTabs, TABS } from "./inbox-tabs.js";
import { renderQueue } from "./inbox-views.js";

const $ = (id) => document.getElementById(id);
// What an empty list means, and what to do about it, per tab.
const EMPTY = {
  waiting: "Nobody is waiting for a person. Customers who ask for one appear here; claim one to answer them.",
  mine: "You hold no conversations. Claim one under Waiting (or in All) to answer the customer; it then shows here.",
  all: "No conversations yet. They appear here as soon as a customer writes to the business on WhatsApp.",
};

/** The empty list's text: the search found nothing, or the tab has nothing yet. */
function emptyText(tab, search) {
  return search.trim() ? `No conversation here matches “${search.trim()}”. Clear the search to see them all.` : EMPTY[tab];
}

/**
 * The conversation list over the inbox's shared `state`; `onSelect(id)` when one is picked.
 * Returns `{ render }`, to call whenever conversations, the selection or the unread counts change.
 */
export function setUpConversationList({ state, unread, onSelect }) {
  const tabs = setUpTabs($("queue-tabs"), (tab) => {
    state.tab = tab;
    render();
  });
  $("queue-search").addEventListener("input", (event) => {
    state.search = event.target.value;
    render();
  });

  function render() {
    if (!state.me) return;
    const conversations = [...state.conversations.values()];
    const counts = Object.fromEntries(TABS.map((tab) => [tab, conversations.filter((c) => inTab(c, tab, state.me)).length]));
    tabs.show(counts, state.tab);
    const shown = conversations.filter((c) => inTab(c, state.tab, state.me) && matches(c, state.search));
    renderQueue($("conversation-list"), shown, state.selectedId, state.me, onSelect);
    unread.show($("conversation-list"));
    $("queue-empty").hidden = shown.length > 0;
    if (!shown.length) $("queue-empty").textContent = emptyText(state.tab, state.search);
    const waiting = conversations.filter((c) => c.status === "waiting").length;
    $("waiting-count").textContent = waiting ? `(${waiting} waiting)` : "";
    document.title = waiting ? `(${waiting}) Support inbox` : "Support inbox";
  }

  return { render };
}
