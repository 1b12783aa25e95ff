// Shared by the live pages: small DOM helpers, and the poll that keeps a page current and says when
// its figures are no longer live.
"use strict";

window.Live = (function () {
  const POLL_MS = 1000;
  const HIDDEN_POLL_MS = 5000;  // a tab nobody looks at should not keep the box busy

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Seconds as m:ss, or h:mm:ss from an hour: a wait or a time in state.
  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  }

  const { gettext: _, timeOfDay } = window.I18n;

  // Polls `url` every second (every 5 s while hidden): `render(body)` on an answer, the banner and a
  // "stale" page (after `onDown()`) when the engine or the web server does not answer. Returns
  // poll(), to refresh at once.
  function poller({ url, root, banner, render, onDown }) {
    let lastGood = null;
    let timer = null;
    let inFlight = false;

    function showDown(headline, detail) {
      if (onDown) onDown();
      root.classList.add("stale");
      const when = lastGood ? _("The figures below are from %(time)s and are not live.", { time: timeOfDay(lastGood) })
        : _("No live data yet.");
      banner.replaceChildren(el("strong", null, headline), " " + when);
      if (detail) banner.append(el("span", "banner-detail", detail));
      banner.hidden = false;
      document.getElementById("boxline").textContent = _("Retrying every second…");
    }

    async function poll() {
      if (inFlight) return;
      inFlight = true;
      clearTimeout(timer);
      try {
        const res = await fetch(url, {
          credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
        });
        if (res.status === 401) {
          window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
          return;
        }
        const body = await res.json().catch(() => ({}));
        if (!res.ok) {
          showDown(res.status === 503 ? _("Engine not reachable.") : _("The box answered %(status)s.", { status: res.status }),
            body.error || "");
        } else {
          lastGood = new Date();
          render(body);
          banner.hidden = true;
          root.classList.remove("stale");
        }
      } catch (err) {
        showDown(_("The web server is not answering."), "");
      } finally {
        inFlight = false;
        timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
      }
    }

    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
    poll();
    return poll;
  }

  return { el, duration, poller };
})();
