// Beyond the 24-hour window: the window's countdown, the opted-out badge, Resolve, and the template
// picker that replaces the composer while the window is closed (only a template reaches the customer then).

import { api } from "./api.js";

const TICK_MS = 30000;
const PLACEHOLDER = /\{\{\s*(\d+)\s*\}\}/g;

/** "4 h 05 min" / "12 min" until `iso`, from `now`. */
export function timeLeft(iso, now = Date.now()) {
  const minutes = Math.max(0, Math.floor((Date.parse(iso) - now) / 60000));
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${String(minutes % 60).padStart(2, "0")} min` : `${minutes} min`;
}

/** The template body with `values` in its `{{n}}` places (empty places stay visible). */
export function rendered(body, values) {
  return body.replace(PLACEHOLDER, (whole, number) => values[Number(number) - 1] || whole);
}

const defaultApi = {
  templates: () => api("GET", "/templates"),
  send: (id, body) => api("POST", `/conversations/${encodeURIComponent(id)}/template`, body),
  resolve: (id) => api("POST", `/conversations/${encodeURIComponent(id)}/resolve`),
};

/**
 * Wire the parts: `windowState` (countdown), `badge` (opted out), `resolveButton`, `replyForm` (hidden while
 * the window is closed), `form` with `select`, `fields`, `preview`. `current()` gives the open conversation,
 * `me()` the signed-in claims, `tell(text)` a notice, `onSent(message)` and `onChanged(conversation)` update the page;
 * `mayResolve()` is asked before resolving (false: the attendant thought better of it).
 */
export function setUpLifecycle({ windowState, badge, resolveButton, replyForm, form, select, fields, preview,
  current, me, tell, onSent, onChanged, mayResolve = () => true, calls = defaultApi }) {
  let templates = null;
  let shownFor = null;

  const chosen = () => (templates || [])[Number(select.value)];
  const values = () => [...fields.querySelectorAll("input")].map((input) => input.value.trim());

  const showFields = () => {
    const template = chosen();
    fields.replaceChildren(...Array.from({ length: template ? template.parameters : 0 }, (_, index) => {
      const label = document.createElement("label");
      label.textContent = `Parameter ${index + 1}`;
      const input = document.createElement("input");
      input.type = "text";
      input.required = true;
      input.dataset.parameter = String(index + 1);
      input.addEventListener("input", showPreview);
      label.append(input);
      return label;
    }));
    showPreview();
  };

  function showPreview() {
    const template = chosen();
    preview.textContent = template ? rendered(template.body, values()) : "No approved templates: create them in WhatsApp Manager.";
  }

  const loadTemplates = async () => {
    if (templates === null) {
      templates = (await calls.templates()).templates;
      select.replaceChildren(...templates.map((template, index) => {
        const option = document.createElement("option");
        option.value = String(index);
        option.textContent = `${template.name} (${template.language})`;
        return option;
      }));
      showFields();
    }
  };

  const render = () => {
    const conversation = current();
    const viewer = me();
    if (!conversation || !viewer) {
      for (const part of [windowState, badge, resolveButton, form]) part.hidden = true;
      return;
    }
    const open = Boolean(conversation.window_open_until);
    windowState.hidden = false;
    windowState.dataset.open = String(open);
    windowState.textContent = open ? `Window open · closes in ${timeLeft(conversation.window_open_until)}`
      : "Window closed · only a template reaches the customer";
    badge.hidden = !conversation.opted_out;
    const heldByOther = conversation.status === "human" && conversation.assigned_to !== viewer.sub;
    resolveButton.hidden = conversation.status === "closed" || (heldByOther && viewer.role !== "admin");
    const mayWrite = !heldByOther;
    form.hidden = open || !mayWrite || conversation.opted_out;
    if (!open) replyForm.hidden = true;
    if (!form.hidden && shownFor !== conversation.id) {
      shownFor = conversation.id;
      loadTemplates().catch((error) => tell(error.message));
    }
  };

  select.addEventListener("change", showFields);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const template = chosen();
    const conversation = current();
    if (!template || !conversation) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await calls.send(conversation.id, { name: template.name, language: template.language, parameters: values() });
      if (current()?.id !== conversation.id) return; // sent; another conversation is open now
      onSent(answer.message);
      fields.querySelectorAll("input").forEach((input) => { input.value = ""; });
      showPreview();
    } catch (error) {
      tell(error.message);
    } finally {
      button.disabled = false;
    }
  });
  resolveButton.addEventListener("click", async () => {
    const conversation = current();
    if (!conversation || !mayResolve()) return;
    resolveButton.disabled = true;
    try {
      onChanged(await calls.resolve(conversation.id));
    } catch (error) {
      tell(error.message);
    } finally {
      resolveButton.disabled = false;
    }
  });
  setInterval(render, TICK_MS);
  return { render };
}
