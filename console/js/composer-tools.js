// The composer's helpers: "Suggest" asks the AI for a draft, `/shortcut` inserts a saved reply,
// "Add note" keeps the text as an internal note. Nothing here sends anything to the customer.

import { api } from "./api.js";

const SHORTCUT = /^\/([a-z0-9_-]*)$/;

/** The saved replies once fetched (null before), and the one request that fetches them. */
let saved = null;
let fetching = null;
function savedReplies() {
  fetching ??= api("GET", "/canned-responses").then((answer) => (saved = answer.canned_responses))
    .catch((error) => {
      fetching = null; // the next keystroke asks again
      throw error;
    });
  return fetching;
}

/** The text of `reply` in the conversation's language (the default language's otherwise). */
function textFor(reply, conversation) {
  return (conversation && reply.texts && reply.texts[conversation.language]) || reply.text;
}

/**
 * Wire the tools: `box` (textarea), `suggest` and `note` buttons, `list` (the shortcut choices),
 * `current()` gives the open conversation, `tell(text)` shows a notice, `onNote(message)` shows a stored note.
 */
export function setUpComposerTools({ form, box, suggest, note, list, current, tell, onNote }) {
  const insert = (reply) => {
    box.value = textFor(reply, current());
    list.replaceChildren();
    list.hidden = true;
    box.focus();
  };

  // Every keystroke calls this; the choices come from the box's text once the replies are known,
  // so a keystroke answered late never shows the choices of an older text.
  const showChoices = async () => {
    if (SHORTCUT.test(box.value.trim())) await savedReplies();
    const typed = SHORTCUT.exec(box.value.trim());
    if (!typed) {
      list.hidden = true;
      return;
    }
    const replies = saved.filter((reply) => reply.shortcut.startsWith(typed[1]));
    list.replaceChildren(...replies.map((reply) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary shortcut-choice";
      button.dataset.shortcut = reply.shortcut;
      button.textContent = `/${reply.shortcut}`;
      button.title = textFor(reply, current());
      button.addEventListener("click", () => insert(reply));
      item.append(button);
      return item;
    }));
    list.hidden = replies.length === 0;
  };

  box.addEventListener("input", () => showChoices().catch((error) => tell(error.message)));

  // Capture phase: runs before the textarea's own Enter-sends handler, so `/hours` + Enter inserts, never sends.
  form.addEventListener("keydown", (event) => {
    if (event.target !== box || !["Enter", "Tab"].includes(event.key) || event.shiftKey) return;
    const typed = SHORTCUT.exec(box.value.trim());
    if (!typed || saved === null) return;
    const reply = saved.find((entry) => entry.shortcut === typed[1])
      || saved.filter((entry) => entry.shortcut.startsWith(typed[1]))[0];
    if (!reply) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    insert(reply);
  }, true);

  suggest.addEventListener("click", async () => {
    const conversation = current();
    if (!conversation) return;
    suggest.disabled = true;
    suggest.setAttribute("aria-busy", "true");
    try {
      const draft = await api("POST", `/conversations/${encodeURIComponent(conversation.id)}/suggestion`);
      if (current()?.id !== conversation.id) return; // another customer is open now: never their composer
      box.value = draft.text;
      box.focus();
    } catch (error) {
      tell(error.code === "ai_unavailable" ? "No draft is available right now: the AI is not set up or did not answer." : error.message);
    } finally {
      suggest.disabled = false;
      suggest.removeAttribute("aria-busy");
    }
  });

  note.addEventListener("click", async () => {
    const conversation = current();
    const text = box.value.trim();
    if (!conversation || !text) return;
    note.disabled = true;
    try {
      const stored = await api("POST", `/conversations/${encodeURIComponent(conversation.id)}/notes`, { text });
      if (current()?.id !== conversation.id) return; // kept; shown when its conversation is opened again
      onNote(stored.message);
      box.value = "";
      box.focus();
    } catch (error) {
      tell(error.message);
    } finally {
      note.disabled = false;
    }
  });
}
