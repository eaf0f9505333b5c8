// The attendant API client: every call carries the token kept in sessionStorage, and can be
// cancelled all at once when the attendant signs out.

export const API_BASE = "/webhooks/attendant";
const TOKEN_KEY = "supportdesk.attendantToken";
const ABORTED = "aborted";
let requests = new AbortController(); // the signal of every call made since the last cancelRequests()

/** An answer other than 2xx: `status`, the API's `code` and its message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `The server answered ${status}.`);
    this.status = status;
    this.code = code;
  }
}

/** True for the rejection of a call cancelled by `cancelRequests()`: nothing to tell anyone. */
export function isCancelled(error) {
  return error instanceof ApiError && error.code === ABORTED;
}

/** Cancel every call in flight (sign-out); their promises reject with an error `isCancelled` knows. */
export function cancelRequests() {
  requests.abort();
  requests = new AbortController();
}

export const tokenStore = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/**
 * The token's claims (name, role, sub, exp), read without verifying: only for display.
 * The server checks the signature on every call.
 */
export function tokenClaims(token) {
  const part = String(token || "").split(".")[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/** Call the API; resolves to the parsed JSON body, rejects with ApiError. */
export async function api(method, path, body) {
  const { signal } = requests;
  const cancelled = () => new ApiError(0, ABORTED, "The request was cancelled.");
  const headers = { Authorization: `Bearer ${tokenStore.get() || ""}`, Accept: "application/json" };
  const init = { method, headers, cache: "no-store", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let answer;
  try {
    answer = await fetch(`${API_BASE}${path}`, init);
  } catch {
    if (signal.aborted) throw cancelled();
    throw new ApiError(0, "network", "The server cannot be reached. Check your connection.");
  }
  let data = null;
  try {
    data = await answer.json();
  } catch {
    data = null;
  }
  if (signal.aborted) throw cancelled(); // cancelled while the body was read
  if (!answer.ok) {
    throw new ApiError(answer.status, data?.error || "http_error", data?.message);
  }
  return data;
}

export const attendantApi = {
  conversations: () => api("GET", "/conversations"),
  conversation: (id) => api("GET", `/conversations/${encodeURIComponent(id)}`),
  messages: (id) => api("GET", `/conversations/${encodeURIComponent(id)}/messages`),
  claim: (id) => api("POST", `/conversations/${encodeURIComponent(id)}/claim`),
  release: (id) => api("POST", `/conversations/${encodeURIComponent(id)}/release`),
  reply: (id, text) => api("POST", `/conversations/${encodeURIComponent(id)}/messages`, { text }),
  appointments: () => api("GET", "/appointments?status=requested"),
  answerAppointment: (id, answer, message) =>
    api("POST", `/appointments/${encodeURIComponent(id)}/${answer}`, message ? { message } : {}),
};
