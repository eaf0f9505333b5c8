// Server-Sent Events over fetch(): EventSource cannot send an Authorization header, so the
// stream is read with a ReadableStream reader, parsed here as the SSE specification says,
// and resumed after a drop with Last-Event-ID.

const DEFAULT_RETRY_MS = 3000;

/** Feeds text chunks in, calls `onEvent({id, event, data})` for each complete event. */
export class SseParser {
  constructor(onEvent, onRetry = () => {}) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
    this.buffer = "";
    this.pendingCr = false;
    this.reset();
    this.lastEventId = "";
  }

  reset() {
    this.data = [];
    this.event = "";
  }

  push(chunk) {
    // A chunk may end between the \r and \n of one line end: that \n is not a blank line.
    if (this.pendingCr && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.pendingCr = chunk.endsWith("\r");
    this.buffer += chunk;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop(); // an unfinished line waits for the next chunk
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") {
      if (this.data.length) {
        this.onEvent({ id: this.lastEventId, event: this.event || "message", data: this.data.join("\n") });
      }
      this.reset();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.onRetry(Number(value));
  }
}

/**
 * Keep a stream open until `stop()` is called. `onEvent` gets `{id, event, data}` with `data`
 * parsed as JSON; `onState` gets "connecting", "open", "reconnecting" or "unauthorized".
 */
export function openStream(url, { token, onEvent, onState = () => {} }) {
  let stopped = false;
  let controller = null;
  let retryMs = DEFAULT_RETRY_MS;
  let lastEventId = "";
  let pause = null; // the wait before reconnecting: stop() ends it at once

  const wait = (ms) => new Promise((resolve) => {
    pause = { timer: setTimeout(resolve, ms), resolve };
  });

  async function readOnce() {
    controller = new AbortController();
    const headers = { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" };
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    const answer = await fetch(url, { headers, signal: controller.signal, cache: "no-store" });
    if (answer.status === 401) return "unauthorized";
    if (!answer.ok || !answer.body) throw new Error(`stream answered ${answer.status}`);
    if (stopped) return "closed";
    onState("open");
    const parser = new SseParser((event) => {
      if (stopped) return;
      lastEventId = event.id || lastEventId;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      onEvent({ id: event.id, event: event.event, data });
    }, (ms) => { retryMs = ms; });
    const reader = answer.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
    }
    return "closed";
  }

  (async () => {
    onState("connecting");
    while (!stopped) {
      try {
        if ((await readOnce()) === "unauthorized") {
          if (!stopped) onState("unauthorized");
          return;
        }
      } catch {
        if (stopped) return;
      }
      if (stopped) return;
      onState("reconnecting");
      await wait(retryMs);
    }
  })();

  return {
    stop() {
      stopped = true;
      if (controller) controller.abort();
      if (pause) {
        clearTimeout(pause.timer);
        pause.resolve();
      }
    },
  };
}
