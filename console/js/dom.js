// Building DOM nodes without HTML strings: every piece of text goes in as textContent,
// so nothing a customer, the bot or an attendant wrote can ever become markup.

/**
 * Create an element. `attrs` keys: `class`, `text`, `on<event>` handlers, `dataset`, or any attribute.
 * Children are nodes or strings (strings become text nodes).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Remove every child of `node`. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

const FORMAT = [
  ["*", "strong"],
  ["_", "em"],
  ["~", "s"],
  ["`", "code"],
];

/**
 * WhatsApp's inline formatting (*bold*, _italic_, ~strike~, `code`) as DOM nodes.
 * Line breaks stay text: the containers use `white-space: pre-wrap`.
 */
export function formattedText(text) {
  const fragment = document.createDocumentFragment();
  const source = String(text ?? "");
  let plain = "";
  let index = 0;
  while (index < source.length) {
    const rule = FORMAT.find(([mark]) => source[index] === mark);
    if (rule) {
      const [mark, tag] = rule;
      const end = source.indexOf(mark, index + 1);
      const inner = end > index + 1 ? source.slice(index + 1, end) : "";
      const atWordStart = index === 0 || /[\s([{"'«]/.test(source[index - 1]);
      if (inner && atWordStart && !inner.includes("\n") && inner.trim() === inner) {
        if (plain) fragment.append(document.createTextNode(plain));
        plain = "";
        fragment.append(el(tag, { text: inner }));
        index = end + 1;
        continue;
      }
    }
    plain += source[index];
    index += 1;
  }
  if (plain) fragment.append(document.createTextNode(plain));
  return fragment;
}

/** A short local time ("14:05") for an ISO timestamp, or "" when there is none. */
export function clockTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return clockText(date, new Date());
}

/** The time alone today; with the day and month (and the year, when not this one) for older times, in the browser's locale. */
export function clockText(date, now) {
  const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === now.toDateString()) return time;
  const day = { day: "numeric", month: "short", ...(date.getFullYear() === now.getFullYear() ? {} : { year: "numeric" }) };
  return `${date.toLocaleDateString([], day)} ${time}`;
}

/** "just now", "4 min", "1 h 20 min", "2 d": how long since `iso`, at `now` (ms). */
export function elapsed(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** Only http(s) links may become an href (never `javascript:` or `data:`). */
export function safeLink(url) {
  try {
    const parsed = new URL(String(url));
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}
