// Media in the inbox: a message's photo, voice note, video or document, and the composer's attach button.
// `<img>` and `<audio>` cannot send the Authorization header, and a token must never sit in a URL, so
// each file is fetched with the header and shown from an object URL (kept per media id, freed at sign-out).

import { API_BASE, ApiError, tokenStore } from "./api.js";
import { el } from "./dom.js";

const MEDIA_PATH = `${API_BASE}/media/`;
const objectUrls = new Map(); // media id -> Promise of an object URL
const LABEL = { image: "Photo", sticker: "Sticker", audio: "Voice note or audio", video: "Video", document: "Document" };

/** The message's kind: its `type`, or what its media's MIME type says when the type is missing. */
function kindOf(message) {
  if (LABEL[message.type]) return message.type;
  const mime = String(message.media?.mime_type || "");
  if (mime === "image/webp") return "sticker";
  const family = mime.split("/")[0];
  return ["image", "audio", "video"].includes(family) ? family : "document";
}

/** Fetch a stored file with the attendant's token; resolves to an object URL (one fetch per media id). */
export function mediaUrl(media) {
  if (!objectUrls.has(media.id)) {
    const loading = fetch(`${MEDIA_PATH}${encodeURIComponent(media.id)}`, {
      headers: { Authorization: `Bearer ${tokenStore.get() || ""}` },
    }).then(async (answer) => {
      if (!answer.ok) {
        const body = await answer.json().catch(() => null);
        throw new ApiError(answer.status, body?.error || "http_error", body?.message);
      }
      return URL.createObjectURL(await answer.blob());
    });
    loading.catch(() => objectUrls.delete(media.id)); // a later render tries again
    objectUrls.set(media.id, loading);
  }
  return objectUrls.get(media.id);
}

/** Free every fetched file (sign-out: nothing of the session stays in the page). */
export function forgetMedia() {
  for (const loading of objectUrls.values()) loading.then((url) => URL.revokeObjectURL(url), () => {});
  objectUrls.clear();
}

function sizeText(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function unavailable(media, reason) {
  return el("p", { class: "media-unavailable", role: "note" }, el("strong", { text: "Media unavailable" }),
    reason ? `: ${reason}` : "");
}

/** Fill `holder` with the file once fetched (`build(url)` makes the element), or say why it is not there. */
function whenFetched(holder, media, build) {
  mediaUrl(media).then(
    (url) => holder.replaceChildren(build(url)),
    (error) => holder.replaceChildren(unavailable(media, error.message)),
  );
}

function picture(media, kind) {
  const holder = el("div", { class: `media-frame media-${kind}` }, el("span", { class: "hint", text: "Loading…" }));
  whenFetched(holder, media, (url) => el(
    "a", { href: url, target: "_blank", rel: "noopener", class: "media-open", title: "Open full size" },
    el("img", { src: url, alt: media.caption || LABEL[kind], class: "media-picture" }),
  ));
  return holder;
}

function player(media, kind) {
  const holder = el("div", { class: `media-frame media-${kind}` }, el("span", { class: "hint", text: "Loading…" }));
  whenFetched(holder, media, (url) => el(kind, { src: url, controls: true, preload: "metadata", class: "media-player" }));
  return holder;
}

function documentLink(media) {
  const name = media.filename || "document";
  const link = el("button", { type: "button", class: "link media-document", text: `📄 ${name}` });
  link.addEventListener("click", async () => {
    link.disabled = true;
    try {
      const url = await mediaUrl(media);
      el("a", { href: url, download: name }).click();
    } catch (error) {
      link.replaceWith(unavailable(media, error.message));
    } finally {
      link.disabled = false;
    }
  });
  return el("p", { class: "media-frame" }, link, " ", el("span", { class: "hint", text: sizeText(media.size) }));
}

/** The media part of a history entry (null without media): picture, player with its transcript, or link. */
export function mediaBlock(message) {
  const media = message.media;
  if (!media) return null;
  const kind = kindOf(message);
  if (media.status === "failed") return unavailable(media, media.error);
  if (media.status === "pending") return el("p", { class: "hint media-pending", text: `${LABEL[kind]}: still being fetched…` });
  const shown = kind === "image" || kind === "sticker" ? picture(media, kind)
    : kind === "audio" || kind === "video" ? player(media, kind) : documentLink(media);
  const transcript = kind === "audio" && media.transcript && media.transcript !== message.text
    ? el("p", { class: "media-transcript" }, el("span", { class: "visually-hidden", text: "Transcript: " }), media.transcript)
    : null;
  const waiting = kind === "audio" && message.sender === "customer" && !media.transcript
    ? el("p", { class: "hint media-transcript", text: "No transcript yet." }) : null;
  return el("div", { class: "media", dataset: { kind, mediaId: media.id } }, shown, transcript, waiting);
}

/** The words a failed upload gets, by status: the server's message says what exactly. */
function uploadProblem(error) {
  if (error.status === 413) return `This file is too big for WhatsApp. ${error.message}`;
  if (error.status === 415) return `WhatsApp does not take this kind of file. ${error.message}`;
  if (error.status === 409 || error.status === 400) return `Nothing was sent. ${error.message}`;
  return error.message || "The file could not be sent.";
}

/** POST the file (and caption) to the conversation; resolves to the API's answer. */
export async function sendMedia(conversationId, file, caption) {
  const form = new FormData();
  form.append("file", file, file.name);
  if (caption) form.append("caption", caption);
  let answer;
  try {
    answer = await fetch(`${API_BASE}/conversations/${encodeURIComponent(conversationId)}/media`, {
      method: "POST", body: form, headers: { Authorization: `Bearer ${tokenStore.get() || ""}` },
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached. Check your connection.");
  }
  const body = await answer.json().catch(() => null);
  if (!answer.ok) throw new ApiError(answer.status, body?.error || "http_error", body?.message);
  return body;
}

/**
 * Add an "Attach a file" button to `tools` (inside the reply form, which only the holder sees). The reply
 * box's text goes with the file as its caption. `current()` is the open conversation, `tell(text)` shows a
 * notice, `onSent(message)` shows the queued message.
 */
export function setUpAttachments({ tools, box, current, tell, onSent }) {
  const picker = el("input", { type: "file", id: "attach-file", class: "visually-hidden", tabindex: "-1",
    "aria-hidden": "true", accept: "image/jpeg,image/png,image/webp,audio/*,video/mp4,video/3gpp,.pdf,.txt,.doc,.docx,.xls,.xlsx,.ppt,.pptx" });
  const button = el("button", { type: "button", id: "attach", class: "secondary", text: "Attach a file" });
  button.addEventListener("click", () => picker.click());
  picker.addEventListener("change", async () => {
    const file = picker.files[0];
    const conversation = current();
    picker.value = "";
    if (!file || !conversation) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      const answer = await sendMedia(conversation.id, file, box.value.trim());
      if (current()?.id !== conversation.id) return; // sent; another conversation's composer is left alone
      box.value = "";
      onSent(answer.message);
    } catch (error) {
      tell(uploadProblem(error));
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  });
  tools.append(button, picker);
}
