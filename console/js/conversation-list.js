// The queue column: tabs with counts, search, the list itself, unread counts and the waiting count in the title.

import { inTab, matches, setUpTabs, TABS } from "./inbox-tabs.js";
import { renderQueue } from "./inbox-views.js";

const $ = (id) => document.getElementById(id);

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
    const waiting = conversations.filter((c) => c.status === "waiting").length;
    $("waiting-count").textContent = waiting ? `(${waiting} waiting)` : "";
    document.title = waiting ? `(${waiting}) Support inbox` : "Support inbox";
  }

  return { render };
}
