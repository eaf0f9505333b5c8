// The open conversation: its header, history and the attendant's actions (claim, reply, release,
// templates, resolve, composer tools).

import { ApiError, attendantApi } from "./api.js";
import { setUpComposerTools } from "./composer-tools.js";
import { displayName, isMine, statusWords } from "./inbox-views.js";
import { setUpLifecycle } from "./lifecycle.js";
import { setUpAttachments } from "./media.js";

const $ = (id) => document.getElementById(id);

/**
 * The conversation panel over the inbox's shared `state`. `onListChanged()` redraws the queue;
 * `explain(error)` and `tell(text)` show problems and news. Returns `{ select, load, render }`.
 */
export function setUpConversationView({ state, historyView, unread, onListChanged, explain, tell }) {
  /** Show conversation `id` and its whole history (stream messages arriving meanwhile are merged in). */
  async function load(id) {
    const loading = historyView.startLoading(id);
    try {
      const [conversation, { messages }] = await Promise.all([attendantApi.conversation(id), attendantApi.messages(id)]);
      if (!historyView.isCurrent(loading)) return; // another conversation, or a newer load of this one, took over
      state.conversations.set(id, conversation);
      render();
      historyView.loaded(loading, messages);
      onListChanged();
    } catch (error) {
      historyView.failed(loading);
      explain(error);
    }
  }

  function render() {
    const conversation = state.conversations.get(state.selectedId);
    if (!conversation) return;
    const mine = isMine(conversation, state.me);
    const asked = ["waiting", "human"].includes(conversation.status);
    $("conversation-title").textContent = displayName(conversation);
    $("conversation-meta").textContent = `${statusWords(conversation, state.me)} · +${conversation.id}`;
    $("conversation-reason").textContent = asked && conversation.handoff_reason ? `Why: ${conversation.handoff_reason}` : "";
    $("conversation-reason").hidden = !$("conversation-reason").textContent;
    $("conversation-summary").textContent = asked ? conversation.summary || "" : "";
    $("conversation-summary").hidden = !$("conversation-summary").textContent;
    $("conversation").dataset.status = conversation.status;
    $("history").hidden = false;
    $("claim").hidden = !["waiting", "bot"].includes(conversation.status);
    $("release").hidden = !(mine || (conversation.status === "human" && state.me.role === "admin"));
    $("reply-form").hidden = !mine;
    lifecycle.render();
    $("conversation-hint").textContent = mine ? ""
      : conversation.status === "human" ? `${conversation.assigned_to} is answering this customer.`
        : "Claim the conversation to answer the customer yourself.";
  }

  /** A conversation changed by an action here: keep it and redraw. */
  function changed(conversation) {
    state.conversations.set(conversation.id, conversation);
    render();
    onListChanged();
  }

  async function select(id) {
    state.selectedId = id;
    unread.seen(id);
    historyView.clear();
    document.body.classList.add("viewing");
    render();
    onListChanged();
    await load(id);
    if (state.selectedId === id) $("conversation").focus();
  }

  async function act(button, work) {
    button.disabled = true;
    try {
      await work();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        tell(error.message);
        await load(state.selectedId);
      } else {
        explain(error);
      }
    } finally {
      button.disabled = false;
    }
  }

  async function claim() {
    await act($("claim"), async () => {
      changed(await attendantApi.claim(state.selectedId));
      $("reply-text").focus();
    });
  }

  /** True when the customer wrote last (internal notes aside): releasing now would leave them unanswered. */
  function customerUnanswered() {
    const said = historyView.messages.filter((message) => message.sender !== "note");
    return said.length > 0 && said[said.length - 1].sender === "customer";
  }

  /** Ask before leaving the customer's last message unanswered (`doing`: "Release to the bot", "Resolve"). */
  function mayLeave(doing) {
    return !customerUnanswered() || window.confirm(`The customer's last message has no answer yet. ${doing} anyway?`);
  }

  async function release() {
    if (!mayLeave("Release to the bot")) return;
    await act($("release"), async () => {
      const conversation = await attendantApi.release(state.selectedId);
      changed(conversation);
      tell(`${displayName(conversation)} is back with the bot.`);
    });
  }

  async function reply(event) {
    event.preventDefault();
    const box = $("reply-text");
    const text = box.value.trim();
    if (!text) return;
    const button = $("reply-form").querySelector("button[type=submit]");
    const id = state.selectedId;
    await act(button, async () => {
      const answer = await attendantApi.reply(id, text);
      if (state.selectedId !== id) return; // sent; another conversation is open now
      historyView.upsert(answer.message || { id: answer.id, sender: "attendant", text, status: "pending" });
      box.value = "";
      box.focus();
    });
  }

  const current = () => state.conversations.get(state.selectedId);
  const lifecycle = setUpLifecycle({
    windowState: $("window-state"), badge: $("opted-out-badge"), resolveButton: $("resolve"), replyForm: $("reply-form"),
    form: $("template-form"), select: $("template-name"), fields: $("template-parameters"), preview: $("template-preview"),
    current, me: () => state.me, tell, onSent: (message) => historyView.upsert(message), onChanged: changed,
    mayResolve: () => mayLeave("Resolve"),
  });
  setUpComposerTools({
    form: $("reply-form"), box: $("reply-text"), suggest: $("suggest"), note: $("add-note"), list: $("shortcut-list"),
    current, tell, onNote: (message) => historyView.upsert(message),
  });
  setUpAttachments({
    tools: $("reply-form").querySelector(".composer-tools"), box: $("reply-text"), current, tell,
    onSent: (message) => historyView.upsert(message),
  });
  $("claim").addEventListener("click", claim);
  $("release").addEventListener("click", release);
  $("reply-form").addEventListener("submit", reply);
  $("reply-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("reply-form").requestSubmit();
    }
  });
  $("back").addEventListener("click", () => {
    document.body.classList.remove("viewing");
    const item = document.querySelector(`.conversation-item[data-id="${CSS.escape(state.selectedId || "")}"]`);
    (item || $("conversation-list")).focus();
  });

  return { select, load, render };
}
