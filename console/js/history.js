// The open conversation's messages: the history as the API answers it, kept current by the stream.
// While a history is on its way, the stream's messages of that conversation wait and are merged by
// id once it is shown, so none is lost, none shows twice and delivery never steps back.

import { isStepBack } from "./delivery-status.js";
import { messageItem, renderHistory } from "./inbox-views.js";

export class HistoryView {
  /** `list` is the history's element. */
  constructor(list) {
    this.list = list;
    this.messages = [];
    this.loading = null; // {id, events} while a history is on its way
  }

  /** Show no message (another conversation is opened, or the attendant left). */
  clear() {
    this.messages = [];
    this.loading = null;
    renderHistory(this.list, []);
    delete this.list.dataset.conversation;
  }

  /** A history of `id` is asked for; the returned load is given to `isCurrent`, `loaded` or `failed`. */
  startLoading(id) {
    this.loading = { id, events: [] };
    return this.loading;
  }

  /** False once another conversation, or a newer load of the same one, took over from `load`. */
  isCurrent(load) {
    return this.loading === load;
  }

  /** Show `messages`, the answer of `load`, then what the stream said meanwhile. */
  loaded(load, messages) {
    if (!this.isCurrent(load)) return;
    this.loading = null;
    this.messages = [...messages];
    renderHistory(this.list, this.messages);
    this.list.dataset.conversation = load.id; // the whole history of `load.id` is shown
    load.events.forEach((event) => this.apply(event));
  }

  /** The history of `load` did not come: what the stream said meanwhile is still newer than what is shown. */
  failed(load) {
    if (!this.isCurrent(load)) return;
    this.loading = null;
    load.events.forEach((event) => this.apply(event));
  }

  /** A `message.created` or `message.status` stream event; only those of `selectedId` are shown. */
  receive(event, selectedId) {
    const conversationId = event.data.conversation_id;
    if (this.loading && this.loading.id === conversationId) this.loading.events.push(event);
    else if (conversationId === selectedId) this.apply(event);
  }

  apply({ event, data }) {
    if (event === "message.created") {
      this.upsert(data);
      return;
    }
    const message = this.messages.find((m) => m.id === data.id);
    if (message) this.upsert({ ...message, status: data.status, status_reason: data.reason });
  }

  /** Add `message`, or update the one with its id (its delivery state only moving forward). */
  upsert(message) {
    const index = this.messages.findIndex((m) => m.id === message.id);
    if (index === -1) {
      this.messages.push(message);
      const nearBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
      this.list.append(messageItem(message));
      if (nearBottom) this.list.scrollTop = this.list.scrollHeight;
      return;
    }
    const known = this.messages[index];
    const merged = { ...known, ...message };
    if (isStepBack(known.status, message.status)) {
      Object.assign(merged, { status: known.status, status_reason: known.status_reason }); // events can overtake
    }
    this.messages[index] = merged;
    const old = this.list.querySelector(`li[data-id="${CSS.escape(message.id)}"]`);
    if (old) old.replaceWith(messageItem(merged));
  }
}
