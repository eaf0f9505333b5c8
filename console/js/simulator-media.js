// The simulator's media: the customer sends a photo, a chosen file or a recorded voice note (through the same
// signed webhook as text), and files an attendant sent are shown in the chat as the phone would show them.

import { el } from "./dom.js";

const MEDIA_API = "/console/simulator/api/media";
const LABEL = { image: "📷 Photo", sticker: "Sticker", audio: "🎤 Audio", video: "🎥 Video", document: "📄 Document" };
// What MediaRecorder can make in this browser, WhatsApp's own format first.
const RECORDING_TYPES = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/webm", "audio/mp4"];

function kindOf(mimeType) {
  const mime = String(mimeType || "").split(";")[0].trim();
  if (mime === "image/webp") return "sticker";
  const family = mime.split("/")[0];
  return ["image", "audio", "video"].includes(family) ? family : "document";
}

/** A file as the chat shows it: picture, player or a named link (`url` is an object URL or a server path). */
export function mediaView(url, mimeType, filename) {
  const kind = kindOf(mimeType);
  if (kind === "image" || kind === "sticker") {
    return el("a", { href: url, target: "_blank", rel: "noopener", class: "wa-picture-link" },
      el("img", { src: url, alt: LABEL[kind], class: `wa-picture wa-${kind}` }));
  }
  if (kind === "audio" || kind === "video") return el(kind, { src: url, controls: true, preload: "metadata", class: "wa-player" });
  return el("a", { href: url, download: filename || "document", class: "wa-link", text: `📄 ${filename || "Document"}` });
}

/** The bubble of an outbox row that carries a file an attendant sent (null when the row has none). */
export function businessMedia(row) {
  const media = row.media;
  if (!media) return null;
  return [
    mediaView(media.url, media.mime_type, media.filename),
    media.caption ? el("p", { class: "wa-text", text: media.caption }) : null,
  ];
}

/** POST the customer's file with `fields` (wa_id, name, caption, voice) as multipart/form-data. */
async function postFile(fields, file, filename) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined && value !== null) form.append(name, String(value));
  form.append("file", file, filename);
  const answer = await fetch(MEDIA_API, { method: "POST", body: form });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data.message || `The server answered ${answer.status}.`);
  return data;
}

/**
 * Add "Attach" and "Record" to the composer. `send(payload, label, options)` is the simulator's send:
 * it draws the customer's bubble (with `options.preview()`), calls `options.post(body)` and shows the outcome.
 */
export function setUpCustomerMedia({ composer, box, send, tell }) {
  const picker = el("input", { type: "file", id: "attach-file", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true",
    accept: "image/jpeg,image/png,image/webp,audio/*,video/*,application/pdf,text/plain" });
  const attach = el("button", { type: "button", id: "attach", class: "secondary icon", "aria-label": "Send a photo or file", text: "📎" });
  const record = el("button", { type: "button", id: "record", class: "secondary icon", "aria-label": "Record a voice note", text: "🎤" });

  const sendFile = (file, filename, voice) => {
    const url = URL.createObjectURL(file);
    const caption = voice ? "" : box.value.trim();
    box.value = "";
    const kind = kindOf(file.type);
    const label = caption || (voice ? "🎤 Voice note" : LABEL[kind]);
    send({ caption, voice }, label, {
      post: (body) => postFile(body, file, filename),
      preview: () => mediaView(url, file.type, filename),
    });
  };

  attach.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    const file = picker.files[0];
    picker.value = "";
    if (file) sendFile(file, file.name, false);
  });

  let recorder = null;
  record.addEventListener("click", async () => {
    if (recorder) {
      recorder.stop();
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const mimeType = RECORDING_TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || "";
      recorder = new MediaRecorder(stream, mimeType ? { mimeType } : {});
    } catch (error) {
      tell(`The microphone is not available: ${error.message}`);
      return;
    }
    const chunks = [];
    recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
    recorder.addEventListener("stop", () => {
      recorder.stream.getTracks().forEach((track) => track.stop());
      const type = recorder.mimeType || "audio/webm";
      recorder = null;
      record.textContent = "🎤";
      record.setAttribute("aria-label", "Record a voice note");
      const extension = type.includes("ogg") ? "ogg" : type.includes("mp4") ? "m4a" : "webm";
      sendFile(new Blob(chunks, { type }), `voice-note.${extension}`, true);
    });
    recorder.start();
    record.textContent = "⏹";
    record.setAttribute("aria-label", "Stop and send the voice note");
  });
  composer.insertBefore(attach, composer.querySelector("#send"));
  composer.insertBefore(record, composer.querySelector("#send"));
  composer.append(picker);
}
