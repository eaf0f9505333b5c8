// Test instruments put into a console page by the browser tests (never served by the console):
// timers a test can hold and count, and a log of fetch() calls whose answers a test can hold back.
// The console calls the global setTimeout/fetch each time, so replacing them after load works.
(() => {
  if (window.__probe) return;
  const real = {
    setTimeout: window.setTimeout.bind(window),
    clearTimeout: window.clearTimeout.bind(window),
    setInterval: window.setInterval.bind(window),
    clearInterval: window.clearInterval.bind(window),
    fetch: window.fetch.bind(window),
  };
  const timers = new Map(); // id -> {callback, held, repeat}: set and not yet run (or cleared)
  const fetches = []; // {url, method, state: sent|held|answered|aborted|failed, status, signal}
  const gates = []; // {fragment, method, answer, before, record, open, released}
  let holding = false;
  let heldId = 1e9; // far from the browser's own timer ids

  function later(handler, args) {
    return () => (typeof handler === "function" ? handler(...args) : undefined);
  }

  window.setTimeout = (handler, ms, ...args) => {
    const callback = later(handler, args);
    if (holding) {
      const id = heldId++;
      timers.set(id, { callback, held: true, repeat: false });
      return id;
    }
    const id = real.setTimeout(() => {
      timers.delete(id);
      callback();
    }, ms);
    timers.set(id, { callback, held: false, repeat: false });
    return id;
  };
  window.setInterval = (handler, ms, ...args) => {
    const callback = later(handler, args);
    const id = holding ? heldId++ : real.setInterval(callback, ms);
    timers.set(id, { callback, held: holding, repeat: true });
    return id;
  };
  window.clearTimeout = (id) => {
    timers.delete(id);
    real.clearTimeout(id);
  };
  window.clearInterval = (id) => {
    timers.delete(id);
    real.clearInterval(id);
  };

  function aborted() {
    return new DOMException("The operation was aborted.", "AbortError");
  }

  /** Wait until the gate opens; an abort of the request ends the wait with the fetch's own error. */
  function held(gate, signal) {
    return new Promise((resolve, reject) => {
      gate.open = resolve;
      if (gate.released) resolve();
      if (!signal) return;
      if (signal.aborted) reject(aborted());
      signal.addEventListener("abort", () => reject(aborted()), { once: true });
    });
  }

  function tap(record, answer) {
    const [page, copy] = answer.body.tee();
    record.text = "";
    (async () => {
      const reader = copy.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ done: true }));
        if (done) return;
        record.text += decoder.decode(value, { stream: true });
      }
    })();
    return new Response(page, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
  }

  window.fetch = async (input, init = {}) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = (init.method || "GET").toUpperCase();
    const signal = init.signal || null;
    const record = { url, method, state: "sent", status: null, signal };
    fetches.push(record);
    const gate = gates.find((g) => !g.record && g.method === method && url.includes(g.fragment));
    if (gate) gate.record = record;
    try {
      let answer;
      if (gate && gate.answer) { // answered by the test, never sent
        record.state = "held";
        await held(gate, signal);
        answer = new Response(JSON.stringify(gate.answer.body), {
          status: gate.answer.status, headers: { "Content-Type": "application/json" },
        });
      } else {
        if (gate && gate.before) { // the request leaves only when the test says so
          record.state = "held";
          await held(gate, signal);
          record.state = "sent";
        }
        answer = await real.fetch(input, init);
        if (gate && !gate.before) { // the server has answered in full; the page sees it only when the test says so
          const body = await answer.arrayBuffer();
          record.state = "held";
          await held(gate, signal);
          answer = new Response(body, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
        }
      }
      if (url.endsWith("/stream") && answer.body) answer = tap(record, answer);
      record.state = "answered";
      record.status = answer.status;
      return answer;
    } catch (error) {
      record.state = signal && signal.aborted ? "aborted" : "failed";
      throw error;
    }
  };

  window.__probe = {
    /** From now on new timers are recorded but never run by the browser. */
    hold() {
      holding = true;
    },
    /** Timers set and neither run nor cleared (held ones included). */
    pendingTimers() {
      return timers.size;
    },
    heldTimers() {
      return [...timers.values()].filter((timer) => timer.held).length;
    },
    /** Run every pending timer once, as if its time had come; returns how many ran. */
    fireTimers() {
      const due = [...timers.entries()];
      for (const [id, timer] of due) {
        if (!timer.repeat) {
          timers.delete(id);
          real.clearTimeout(id);
        }
        timer.callback();
      }
      return due.length;
    },
    /**
     * Hold back the answer of the next `method` request whose URL contains `fragment` until `release`;
     * `{before: true}` holds the request itself (the server knows nothing yet), `{answer: {status, body}}`
     * answers in place of the server.
     */
    gate(fragment, method = "GET", { answer = null, before = false } = {}) {
      gates.push({ fragment, method, answer, before, record: null, open: null, released: false });
    },
    /** Let the held answers of `fragment` through. */
    release(fragment) {
      for (const gate of gates.filter((g) => g.fragment === fragment)) {
        gate.released = true;
        if (gate.open) gate.open();
      }
    },
    /** The fetch log, as plain data; `from` skips the first entries. */
    log(from = 0) {
      return fetches.slice(from).map((r) => ({
        url: r.url, method: r.method, state: r.state, status: r.status, aborted: Boolean(r.signal && r.signal.aborted),
      }));
    },
    /** What the stream has sent so far. */
    streamText() {
      return fetches.filter((r) => r.url.endsWith("/stream")).map((r) => r.text || "").join("");
    },
  };
})();
