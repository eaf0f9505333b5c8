// Delivery states of attendant and system messages, as the outbox records them and the attendant
// API sends them (`status` of a message): the only place in the console that knows them.

/** Each state, in delivery order: its rank (a later state never goes back), its mark and words. */
const STATES = Object.freeze({
  pending: Object.freeze({ rank: 0, mark: "🕓", words: "sending" }),
  sending: Object.freeze({ rank: 1, mark: "🕓", words: "sending" }),
  sent: Object.freeze({ rank: 2, mark: "✓", words: "sent" }),
  logged: Object.freeze({ rank: 2, mark: "✓", words: "logged, not sent (no WhatsApp token: the simulator shows it)" }),
  delivered: Object.freeze({ rank: 3, mark: "✓✓", words: "delivered" }),
  read: Object.freeze({ rank: 4, mark: "✓✓", words: "read" }),
  failed: Object.freeze({ rank: 5, mark: "⚠", words: "not delivered" }),
  suppressed: Object.freeze({ rank: 5, mark: "⊘", words: "not sent" }),
});

/** Every delivery state the API may send, in delivery order. */
export const DELIVERY_STATUSES = Object.freeze(Object.keys(STATES));

/** How far delivery got (-1 for a missing or unknown state). */
export function deliveryRank(status) {
  return Object.hasOwn(STATES, status ?? "") ? STATES[status].rank : -1;
}

/** True when moving from `known` to `incoming` would be a step back: a late event overtaken by a newer one. */
export function isStepBack(known, incoming) {
  return deliveryRank(known) > deliveryRank(incoming);
}

/** The visible mark and the words for everyone (an unknown state shows its own name). */
export function deliveryLabel(status) {
  const state = Object.hasOwn(STATES, status ?? "") ? STATES[status] : null;
  return state ? { mark: state.mark, words: state.words } : { mark: "", words: String(status) };
}
