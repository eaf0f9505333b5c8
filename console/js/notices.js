// What the inbox tells the attendant outside the conversation: a dismissible notice in the
// corner, a short beep, and browser notifications (permission asked only when the attendant clicks).

const $ = (id) => document.getElementById(id);
const NOTICE_MS = 6000;
const BEEP_SECONDS = 0.25;
let timer = null;
let audio = null; // one AudioContext, made at the first beep (after the attendant clicked: browsers allow sound then)

/** Show `text` in the notice (read out by screen readers); an empty text hides it. */
export function notice(text) {
  $("toast-text").textContent = text;
  $("toast").hidden = !text;
  clearTimeout(timer);
  if (text) timer = setTimeout(() => { $("toast").hidden = true; }, NOTICE_MS);
}

function updateButton(button) {
  button.textContent = Notification.permission === "granted" ? "Notifications on" : "Enable notifications";
  button.disabled = Notification.permission !== "default";
}

/** Wire the close button of the notice and the button that asks for notification permission. */
export function setUpNotices(permissionButton) {
  $("toast-close").addEventListener("click", () => notice(""));
  if (!("Notification" in window)) {
    permissionButton.hidden = true;
    return;
  }
  updateButton(permissionButton);
  permissionButton.addEventListener("click", async () => {
    await Notification.requestPermission();
    updateButton(permissionButton);
  });
}

/** A short, quiet beep (WebAudio). A courtesy: where sound is not allowed or not there, nothing happens. */
export function beep() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume().catch(() => {});
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    tone.frequency.value = 880;
    volume.gain.setValueAtTime(0.08, audio.currentTime);
    volume.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + BEEP_SECONDS);
    tone.connect(volume).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + BEEP_SECONDS);
  } catch {
    // no sound: the notice and the unread count still tell
  }
}

/** The in-page notice and a beep, and a browser notification when allowed; `onOpen` when that is clicked. */
export function alertAttendant(title, body, tag, onOpen) {
  notice(body);
  beep();
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const shown = new Notification(title, { body, tag });
    shown.onclick = () => {
      window.focus();
      onOpen();
      shown.close();
    };
  } catch {
    // some browsers (Chrome on Android) allow notifications from a service worker only: the notice told
  }
}

/** Show the simulator link only when the server has the simulator on. */
export async function offerSimulator(link) {
  try {
    const answer = await fetch("/console/simulator", { method: "HEAD", cache: "no-store" });
    link.hidden = !answer.ok;
  } catch {
    link.hidden = true;
  }
}
