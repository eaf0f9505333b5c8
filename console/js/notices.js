// What the inbox tells the attendant outside the conversation: a dismissible notice in the
// corner, and browser notifications (permission asked only when the attendant clicks).

const $ = (id) => document.getElementById(id);
const NOTICE_MS = 6000;
let timer = null;

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

/** A browser notification when allowed (always also the in-page notice); `onOpen` when clicked. */
export function alertAttendant(title, body, tag, onOpen) {
  notice(body);
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const shown = new Notification(title, { body, tag });
  shown.onclick = () => {
    window.focus();
    onOpen();
    shown.close();
  };
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
