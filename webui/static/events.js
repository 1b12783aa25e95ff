// The page's live events (docs/architecture.md §15): one EventSource on /api/v1/events for the page.
// Events.subscribe({onEvent(type, data), onReset(), onState(up, why)}): onReset when the page must
// read its snapshot (the stream's first opening, a `reset` from the server, the engine back after a
// restart); onState(false, "stream" | "engine") while the stream or the engine's side of it is down.
"use strict";

window.Events = (function () {
  // Every type the server sends (webui/events.py); an EventSource hears only the types it names.
  const TYPES = ["agent", "offer", "call", "queue", "supervisor", "line", "box", "campaign", "preview"];
  let source = null;
  const subscribers = [];
  let streamUp = false;
  let engineUp = true;
  let fresh = true;   // no snapshot read since the stream (re)opened without an id to resume from

  function each(fn, ...args) {
    subscribers.forEach((s) => { if (s[fn]) s[fn](...args); });
  }
  function state() { each("onState", streamUp && engineUp, streamUp ? "engine" : "stream"); }

  function parse(ev) {
    try {
      return JSON.parse(ev.data);
    } catch (err) {
      return null;
    }
  }

  function open() {
    source = new EventSource("/api/v1/events");
    source.onopen = () => {
      streamUp = true;
      state();
      // A first opening carries no Last-Event-ID: what happened before it is in the snapshot.
      if (fresh) {
        fresh = false;
        each("onReset");
      }
    };
    source.onerror = () => {
      streamUp = false;
      state();
      if (source.readyState === EventSource.CLOSED) {
        // Refused (signed out, session revoked): the page's own requests will send it to sign in.
        source = null;
        fresh = true;
        setTimeout(open, 5000);
      }
    };
    TYPES.forEach((type) => {
      source.addEventListener(type, (ev) => {
        const data = parse(ev);
        if (data) each("onEvent", type, data);
      });
    });
    source.addEventListener("reset", () => each("onReset"));
    source.addEventListener("engine", (ev) => {
      const data = parse(ev);
      if (!data) return;
      engineUp = Boolean(data.up);
      state();
    });
  }

  function subscribe(handlers) {
    subscribers.push(handlers);
    if (!source) open();
    else if (streamUp) {
      if (handlers.onState) handlers.onState(streamUp && engineUp, streamUp ? "engine" : "stream");
      if (handlers.onReset) handlers.onReset();
    }
  }

  return { subscribe };
})();
