// Shared by the live pages: small DOM helpers, and the follower that keeps a page current from the
// live event stream (events.js: a snapshot read once, then events) and says when its figures are no
// longer live.
"use strict";

window.Live = (function () {

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

  // Seconds as the boards show them: m:ss, or h:mm:ss from an hour.
  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const pad = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
  }

  // Reads the snapshot at `url` (its `events` names the last event it includes), then keeps it
  // current: `apply(snapshot, type, data)` for each later event, `render(snapshot)` after them (once a
  // frame). The snapshot is read again when the stream says so (events.js onReset). The banner and a
  // "stale" page (after `onDown()`) while the stream, the engine or the snapshot is down. Returns
  // refresh(), to read the snapshot again at once.
  function follower({ url, root, banner, render, apply, onDown }) {
    let lastGood = null;
    let model = null;      // the snapshot, kept current by the events
    let early = [];        // events that came while the snapshot was being read
    let drawing = false;
    let reading = false;

    function showDown(headline, detail) {
      if (onDown) onDown();
      root.classList.add("stale");
      const when = lastGood ? _("The figures below are from %(time)s and are not live.", { time: timeOfDay(lastGood) })
        : _("No live data yet.");
      banner.replaceChildren(el("strong", null, headline), " " + when);
      if (detail) banner.append(el("span", "banner-detail", detail));
      banner.hidden = false;
      document.getElementById("boxline").textContent = _("Reconnecting…");
    }

    function showUp() {
      lastGood = new Date();
      banner.hidden = true;
      root.classList.remove("stale");
    }

    function draw() {
      if (drawing) return;
      drawing = true;
      requestAnimationFrame(() => {
        drawing = false;
        if (!model) return;
        lastGood = new Date();
        render(model);
      });
    }

    // An event the snapshot already includes (same engine run, sequence up to its own) is skipped.
    function take(type, data) {
      const seen = model.events;
      if (seen && data.run === seen.run && data.seq !== undefined && data.seq <= seen.seq) return;
      if (model.box && data.at) model.box.now = data.at;
      apply(model, type, data);
    }

    async function refresh() {
      if (reading) return;
      reading = true;
      early = [];
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
          model = null;
          showDown(res.status === 503 ? _("Engine not reachable.") : _("The box answered %(status)s.", { status: res.status }),
            body.error || "");
          return;
        }
        model = body;
        early.forEach(([type, data]) => take(type, data));
        showUp();
        draw();
      } catch (err) {
        model = null;
        showDown(_("The web server is not answering."), "");
      } finally {
        early = [];
        reading = false;
      }
    }

    window.Events.subscribe({
      onReset: refresh,
      onEvent(type, data) {
        if (reading) early.push([type, data]);
        else if (model) {
          take(type, data);
          draw();
        }
      },
      onState(up, why) {
        if (up) {
          // Back: the stream resumes where it was (or resets); a page with no snapshot reads one.
          if (model) showUp();
          else refresh();
          return;
        }
        showDown(why === "engine" ? _("Engine not reachable.") : _("The web server is not answering."), "");
      },
    });
    return refresh;
  }

  // The entry of `list` whose `key` is `value`, replaced by (or, if new, added as) `entry`; `entry`
  // null removes it.
  function put(list, key, value, entry) {
    const i = list.findIndex((item) => item[key] === value);
    if (entry === null) {
      if (i >= 0) list.splice(i, 1);
    } else if (i >= 0) list[i] = entry;
    else list.push(entry);
  }

  return { el, duration, follower, put };
})();
