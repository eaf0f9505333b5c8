// Graph API message objects (what the business sends) drawn as WhatsApp shows them.
// Text always goes in as textContent; links only when they are http(s).

import { clockTime, el, formattedText, safeLink } from "./dom.js";

function textBlock(text, className = "wa-text") {
  return text ? el("p", { class: className }, formattedText(text)) : null;
}

function mediaCard(icon, label, media) {
  const link = safeLink(media?.link);
  return [
    el("p", { class: "wa-media" }, el("span", { "aria-hidden": "true", text: `${icon} ` }), label),
    textBlock(media?.caption),
    link ? el("a", { class: "wa-link", href: link, target: "_blank", rel: "noopener noreferrer", text: "Open" }) : null,
  ];
}

function interactiveParts(interactive) {
  const header = interactive.header?.type === "text" ? interactive.header.text : "";
  return [
    header ? el("p", { class: "wa-header", text: header }) : null,
    textBlock(interactive.body?.text),
    interactive.footer?.text ? el("p", { class: "wa-footer", text: interactive.footer.text }) : null,
  ];
}

/**
 * The bubble's content and, for interactive messages, the controls under it.
 * `actions.reply(reply, kind)` sends a button or list reply; `actions.openList(interactive)` opens a list.
 */
export function renderBusinessMessage(message, actions) {
  const type = message?.type;
  if (type === "text") return { body: [textBlock(message.text?.body)], controls: null };
  if (type === "image") return { body: mediaCard("🖼", "Photo", message.image), controls: null };
  if (type === "document") {
    return { body: mediaCard("📄", message.document?.filename || "Document", message.document), controls: null };
  }
  if (type === "interactive" && message.interactive?.type === "button") {
    const buttons = message.interactive.action?.buttons || [];
    const controls = el("div", { class: "wa-buttons" }, buttons.map((button) =>
      el("button", {
        type: "button",
        class: "wa-button",
        text: button.reply?.title,
        onclick: () => actions.reply({ id: button.reply?.id, title: button.reply?.title }, "button"),
      })));
    return { body: interactiveParts(message.interactive), controls };
  }
  if (type === "interactive" && message.interactive?.type === "list") {
    const label = message.interactive.action?.button || "Options";
    const controls = el("div", { class: "wa-buttons" },
      el("button", {
        type: "button",
        class: "wa-button wa-list-open",
        "aria-haspopup": "dialog",
        onclick: () => actions.openList(message.interactive),
      }, el("span", { "aria-hidden": "true", text: "☰ " }), label));
    return { body: interactiveParts(message.interactive), controls };
  }
  if (type === "template") {
    return { body: [el("p", { class: "wa-media", text: `Template: ${message.template?.name || ""}` })], controls: null };
  }
  return { body: [el("p", { class: "wa-media", text: `[${type || "unknown"} message]` })], controls: null };
}

/** One chat entry: `from` is "business" or "customer"; `meta` the small line under the bubble. */
export function chatEntry({ from, body, controls, meta, time, dataset = {} }) {
  return el(
    "li",
    { class: `entry from-${from}`, dataset },
    el("div", { class: "bubble" },
      body,
      el("p", { class: "bubble-meta" },
        meta ? el("span", { class: "meta-text", text: meta }) : null,
        el("time", { datetime: time || undefined, text: clockTime(time) }))),
    controls,
  );
}
