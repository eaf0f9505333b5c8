// The inbox's appointment requests: soonest first, updated in place as the stream reports changes
// (a message being typed to a customer survives), each answered once (its buttons stay off while
// the answer is sent and after it was taken).

import { ApiError, attendantApi, isCancelled } from "./api.js";
import { el } from "./dom.js";

const OPEN = "requested";
const DONE = {
  confirm: "Appointment confirmed; the customer was told.",
  decline: "Request declined; the customer was told.",
};

/** The question asked before an answer goes out to the customer (it cannot be taken back). */
export function answerQuestion(answer, appointment, note) {
  const name = appointment.customer_name || `+${appointment.conversation_id}`;
  const when = appointment.starts_at_text || appointment.starts_at;
  const what = answer === "confirm" ? `Confirm ${name}'s appointment (${when})?` : `Decline ${name}'s request (${when})?`;
  const message = note ? ` with your message "${note}"` : "";
  return `${what} ${name} is told on WhatsApp at once${message}.`;
}

function soonestFirst(a, b) {
  return (Date.parse(a.starts_at) - Date.parse(b.starts_at)) || (a.id - b.id);
}

export class AppointmentPanel {
  /**
   * `list` and `empty` are the panel's elements; `onOpen(conversationId)` opens a conversation,
   * `tell(text)` shows a notice and `onProblem(error)` handles a failed call.
   */
  constructor({ list, empty, onOpen, tell, onProblem }) {
    Object.assign(this, { list, empty, onOpen, tell, onProblem });
    this.appointments = new Map();
    this.loads = 0; // the newest load wins over an older one answering late
    this.loading = 0; // loads in flight
    this.events = []; // changes seen while a load is in flight, applied again on top of its answer
  }

  /** Load the open requests from the API; changes reported meanwhile are kept. */
  async refresh() {
    const load = ++this.loads;
    const from = this.events.length;
    this.loading += 1;
    try {
      const { appointments } = await attendantApi.appointments();
      if (load !== this.loads) return;
      this.appointments = new Map();
      for (const appointment of [...appointments, ...this.events.slice(from)]) this.set(appointment);
      this.render();
    } catch (error) {
      if (!isCancelled(error)) this.onProblem(error);
    } finally {
      this.loading -= 1;
      if (!this.loading) this.events = [];
    }
  }

  /** A request as the stream or an answer reports it: listed while open, gone once answered. */
  update(appointment) {
    if (this.loading) this.events.push(appointment);
    this.set(appointment);
    this.render();
  }

  /** Forget everything (sign-out): loads still in flight are ignored. */
  clear() {
    this.loads += 1;
    this.appointments = new Map();
    this.list.replaceChildren();
    this.empty.hidden = false;
  }

  set(appointment) {
    if (appointment.status === OPEN) this.appointments.set(appointment.id, appointment);
    else this.appointments.delete(appointment.id);
  }

  /** Items are kept, refreshed and moved only when their order changes: focus and typed text stay. */
  render() {
    const existing = new Map();
    for (const item of [...this.list.children]) {
      if (this.appointments.has(Number(item.dataset.id))) existing.set(item.dataset.id, item);
      else item.remove(); // first, so that the items after it need not move
    }
    [...this.appointments.values()].sort(soonestFirst).forEach((appointment, index) => {
      const item = existing.get(String(appointment.id)) || this.newItem(appointment.id);
      this.fill(item, appointment);
      if (this.list.children[index] !== item) this.list.insertBefore(item, this.list.children[index] || null);
    });
    this.empty.hidden = this.appointments.size > 0;
  }

  newItem(id) {
    const noteId = `appointment-note-${id}`;
    const button = (answer, text, className) => el("button", {
      type: "button", class: className, text, dataset: { answer }, onclick: () => this.answer(item, id, answer),
    });
    const item = el(
      "li",
      { class: "appointment", dataset: { id: String(id) } },
      el("div", { class: "appointment-summary" }),
      el("label", { for: noteId }),
      el("input", { id: noteId, class: "appointment-message", type: "text", maxlength: "4096", autocomplete: "off" }),
      el("div", { class: "actions" }, button("confirm", "Confirm", "answer"), button("decline", "Decline", "answer secondary")),
    );
    return item;
  }

  fill(item, appointment) {
    const name = appointment.customer_name || `+${appointment.conversation_id}`;
    const shown = JSON.stringify([name, appointment.conversation_id, appointment.starts_at_text,
      appointment.starts_at, appointment.service, appointment.note]);
    if (item.dataset.shown === shown) return; // unchanged: leave the nodes (and the focus) alone
    item.dataset.shown = shown;
    item.querySelector(".appointment-summary").replaceChildren(...[
      el("p", { class: "appointment-when", text: appointment.starts_at_text || appointment.starts_at }),
      el("p", { class: "appointment-who" },
        el("button", { type: "button", class: "link", text: name, onclick: () => this.onOpen(appointment.conversation_id) }),
        appointment.service ? ` · ${appointment.service}` : ""),
      appointment.note ? el("p", { class: "appointment-note", text: appointment.note }) : null,
    ].filter(Boolean));
    item.querySelector("label").textContent = `Message to ${name} (optional)`;
  }

  /** Send one answer; a second click cannot send another while this one is on its way or done. */
  async answer(item, id, answer) {
    if (item.dataset.state) return;
    const note = item.querySelector("input");
    const buttons = [...item.querySelectorAll("button.answer")];
    const lock = (locked) => {
      buttons.forEach((button) => { button.disabled = locked; });
      note.readOnly = locked;
    };
    const appointment = this.appointments.get(id);
    if (appointment && !window.confirm(answerQuestion(answer, appointment, note.value.trim()))) return;
    item.dataset.state = "answering";
    lock(true);
    try {
      const answered = await attendantApi.answerAppointment(id, answer, note.value.trim());
      item.dataset.state = "answered";
      this.tell(DONE[answer]);
      this.update(answered);
    } catch (error) {
      if (isCancelled(error)) return;
      if (error instanceof ApiError && error.status === 409) { // answered meanwhile, by someone else
        item.dataset.state = "answered";
        this.tell(error.message);
        this.refresh();
        return;
      }
      delete item.dataset.state;
      lock(false);
      this.onProblem(error);
    }
  }
}
