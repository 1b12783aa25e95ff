// Live dashboard: reads /api/v1/status once, then keeps the tiles and tables current from the live
// events (live.js follower over events.js).
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;

  const { el, duration, put } = window.Live;
  const { gettext: _, ngettext, number, timeOfDay } = window.I18n;
  const TARGET_S = Number(root.dataset.serviceTarget);
  const canControl = root.dataset.canControl === "1";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const banner = document.getElementById("engine-banner");
  const LABELS = {
    idle: _("Idle"), ringing: _("Ringing"), ivr: _("In IVR"), queued: _("Queued"), ringing_agent: _("Ringing agent"),
    connected: _("Connected"), alarm: _("Alarm"), logged_out: _("Logged out"), ready: _("Ready"),
    talking: _("Talking"), wrapup: _("Wrap-up"), not_ready: _("Not ready"),
  };
  // Each busy state counted on the "Agents busy" tile.
  const BUSY_COUNTS = {
    ringing: (n) => ngettext("%(n)s ringing", "%(n)s ringing", n),
    talking: (n) => ngettext("%(n)s talking", "%(n)s talking", n),
    wrapup: (n) => ngettext("%(n)s in wrap-up", "%(n)s in wrap-up", n),
  };
  const STRATEGIES = {
    longest_idle: _("longest idle"), round_robin: _("round robin"), ring_all: _("ring all"),
    fewest_calls: _("fewest calls"), least_talk: _("least talk time"), skill_first: _("highest skill first"),
  };
  const KINDS = { trunk: _("trunk"), station: _("station") };
  // The not-ready reasons are recorded in English; the page names them in its language.
  const REASONS = JSON.parse(root.dataset.reasons || "{}");
  const reasonLabel = (reason) => REASONS[reason] || reason;
  const BUSY = ["ringing", "talking", "wrapup"];

  let fetchedAt = performance.now();  // when the figures on screen were drawn
  let live = false;                   // counters run only while the stream is up

  // --- small DOM helpers ------------------------------------------------------------------------

  // A duration that keeps counting between events from its value when drawn.
  function counter(seconds) {
    const span = el("span", "live", duration(seconds));
    span.dataset.base = String(seconds);
    return span;
  }

  function badge(state, detail) {
    const span = el("span", "st st-" + state, LABELS[state] || state);
    if (detail) span.append(" ", el("small", null, detail));
    return span;
  }

  function twoLine(main, sub, mainCls) {
    const frag = el("div");
    frag.append(el("span", mainCls, main));
    if (sub) frag.append(el("span", "sub", sub));
    return frag;
  }

  function setCell(td, content) {
    const current = td.firstElementChild;
    if (content instanceof Element && content.classList.contains("live") && td.dataset.sig === "live") {
      // Rebase the running counter in place rather than swapping the element at every event.
      current.dataset.base = content.dataset.base;
      current.textContent = content.textContent;
      return;
    }
    const node = content instanceof Node ? content : document.createTextNode(String(content));
    const sig = !(content instanceof Node) ? "t:" + String(content)
      : content instanceof Element && content.classList.contains("live") ? "live" : content.outerHTML;
    if (td.dataset.sig !== sig) {
      td.replaceChildren(node);
      td.dataset.sig = sig;
    }
  }

  // Updates rows in place, keyed, so that a half-chosen reason or an error message in a row
  // survives the next event.
  function syncRows(table, items, keyOf, cellsOf, after) {
    const tbody = table.tBodies[0];
    const heads = Array.from(table.tHead.rows[0].cells);
    const byKey = new Map(Array.from(tbody.rows).filter((r) => r.dataset.key).map((r) => [r.dataset.key, r]));
    let previous = null;
    for (const item of items) {
      const key = String(keyOf(item));
      let tr = byKey.get(key);
      const created = !tr;
      if (created) {
        tr = el("tr");
        tr.dataset.key = key;
        for (const th of heads) tr.append(el("td", th.className));
      }
      byKey.delete(key);
      cellsOf(item).forEach((content, i) => setCell(tr.cells[i], content));
      if (after) after(tr, item, created);
      const wanted = previous ? previous.nextSibling : tbody.firstChild;
      if (wanted !== tr) tbody.insertBefore(tr, wanted);
      previous = tr;
    }
    byKey.forEach((tr) => tr.remove());
    const empty = tbody.querySelector("tr.empty");
    if (items.length && empty) empty.remove();
    if (!items.length && !empty) {
      const tr = el("tr", "empty");
      const td = el("td", null, tbody.dataset.empty);
      td.colSpan = heads.length;
      tr.append(td);
      tbody.append(tr);
    }
  }

  function tile(id, value, level, sub) {
    const node = document.getElementById(id);
    node.className = "tile" + (level ? " is-" + level : "");
    setCell(node.querySelector(".tile-value"), value);
    if (sub !== undefined) node.querySelector(".tile-sub").textContent = sub;
  }

  // --- agent actions ----------------------------------------------------------------------------
  async function act(row, agentId, action) {
    const error = row.querySelector(".action-error");
    const buttons = row.querySelectorAll(".actions button, .actions select");
    const body = action === "not_ready" ? { reason: row.querySelector(".reason").value } : {};
    buttons.forEach((b) => { b.disabled = true; });
    error.textContent = "";
    try {
      const res = await fetch(`/api/v1/agents/${encodeURIComponent(agentId)}/${action}`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
        body: JSON.stringify(body),
      });
      const reply = await res.json().catch(() => ({}));
      if (!res.ok) error.textContent = reply.error || _("The box answered %(status)s.", { status: res.status });
    } catch (err) {
      error.textContent = _("The web server is not answering.");
    } finally {
      // The agent's new state comes as an event.
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function buildActions(tr, agentId) {
    const td = tr.cells[tr.cells.length - 1];
    const box = el("div", "actions");
    const button = (action, label, cls) => {
      const b = el("button", "btn btn-sm " + cls, label);
      b.type = "button";
      b.dataset.action = action;
      b.addEventListener("click", () => act(tr, agentId, action));
      return b;
    };
    const reason = document.getElementById("reason-select").content.firstElementChild.cloneNode(true);
    box.append(button("login", _("Log in"), "btn-ok"), button("ready", _("Ready"), "btn-ok"), reason,
      button("not_ready", _("Not ready"), "btn-warn"), button("logout", _("Log out"), "btn-ghost"));
    td.replaceChildren(box, el("div", "action-error"));
    td.querySelector(".action-error").setAttribute("role", "alert");
  }

  function showActions(tr, state) {
    const loggedIn = state !== "logged_out";
    const show = {
      login: !loggedIn,
      logout: loggedIn,
      ready: state === "not_ready" || state === "wrapup",
      not_ready: state === "ready" || state === "wrapup",
    };
    tr.querySelectorAll(".actions button").forEach((b) => { b.hidden = !show[b.dataset.action]; });
    tr.querySelector(".reason").hidden = !show.not_ready;
  }

  // --- rendering ----------------------------------------------------------------------------------
  function render(s) {
    const now = s.box.now;
    const waitOf = (c) => (c.wait_s !== null && c.wait_s !== undefined ? c.wait_s
      : now - (c.queued_at || c.arrived_at));
    const waiting = s.calls.filter((c) => c.state === "queued" || c.state === "ringing_agent")
      .sort((a, b) => waitOf(b) - waitOf(a));
    const inIvr = s.calls.filter((c) => c.state === "ivr").length;
    // A queue event says when its longest-waiting caller came; the snapshot says how long they had waited.
    const longestOf = (q) => (q.oldest_since ? now - q.oldest_since : q.longest_wait_s);
    const longest = waiting.length ? waitOf(waiting[0]) : 0;
    const count = (states) => s.agents.filter((a) => states.includes(a.state)).length;
    const ready = count(["ready"]), busy = count(BUSY), notReady = count(["not_ready"]);
    const loggedIn = s.agents.length - count(["logged_out"]);
    const alarms = s.lines.filter((l) => l.state === "alarm").length;
    const inUse = s.lines.filter((l) => l.state !== "idle" && l.state !== "alarm").length;
    const reasons = [...new Set(s.agents.filter((a) => a.state === "not_ready" && a.reason).map((a) => a.reason))];

    tile("t-waiting", number(waiting.length), !waiting.length ? "ok" : longest > TARGET_S ? "alarm" : "warn",
      inIvr ? ngettext("%(n)s more in the IVR", "%(n)s more in the IVR", inIvr) : _("none in the IVR"));
    tile("t-longest", waiting.length ? counter(longest) : "0:00",
      !waiting.length ? "ok" : longest > TARGET_S ? "alarm" : "warn");
    tile("t-ready", number(ready), ready ? "ok" : waiting.length ? "alarm" : null,
      ngettext("%(n)s logged in", "%(n)s logged in", loggedIn));
    tile("t-busy", number(busy), busy ? "info" : null,
      BUSY.map((st) => [count([st]), st]).filter(([n]) => n).map(([n, st]) => BUSY_COUNTS[st](n)).join(" · ")
        || _("nobody on a call"));
    tile("t-notready", number(notReady), notReady ? "warn" : null, reasons.map(reasonLabel).join(", ") || "—");
    const linesValue = el("span", null, number(inUse));
    linesValue.append(el("small", null, ` / ${number(s.lines.length)}`));
    tile("t-lines", linesValue, alarms ? "alarm" : inUse ? "info" : null,
      alarms ? ngettext("%(n)s line in alarm", "%(n)s lines in alarm", alarms) : _("no alarms"));
    const p99 = el("span", null, number(s.ticks.p99_ms, 1));
    p99.append(el("small", null, " " + _("ms")));
    // A tick is 20 ms (docs/architecture.md §2): a p99 above it means the loop is falling behind.
    tile("t-tick", p99, s.ticks.p99_ms > 20 ? "alarm" : s.ticks.overruns ? "warn" : "ok",
      ngettext("%(n)s overrun", "%(n)s overruns", s.ticks.overruns, { n: number(s.ticks.overruns) }));
    document.getElementById("t-tick").title =
      _("mean %(mean)s ms · max %(max)s ms over %(count)s ticks", { mean: number(s.ticks.mean_ms, 2),
        max: number(s.ticks.max_ms, 1), count: number(s.ticks.count) });

    const boxline = document.getElementById("boxline");
    boxline.replaceChildren(_("Box %(id)s · board %(board)s · %(mode)s mode · up %(uptime)s · updated %(time)s",
      { id: s.box.id, board: s.box.board, mode: s.box.mode, uptime: duration(now - s.box.started_at),
        time: timeOfDay(new Date()) }));

    document.getElementById("n-waiting").textContent = waiting.length || "";
    document.getElementById("n-agents").textContent = ngettext("%(n)s of %(total)s logged in",
      "%(n)s of %(total)s logged in", loggedIn, { total: number(s.agents.length) });
    document.getElementById("n-lines").textContent = ngettext("%(n)s of %(total)s in use",
      "%(n)s of %(total)s in use", inUse, { total: number(s.lines.length) });

    syncRows(document.getElementById("waiting"), waiting, (c) => c.id,
      (c) => [twoLine(c.number || _("unknown"), c.name, "caller"), c.queue || "—", badge(c.state), counter(waitOf(c))],
      (tr, c) => tr.classList.toggle("over-target", waitOf(c) > TARGET_S));

    syncRows(document.getElementById("agents"), s.agents, (a) => a.id,
      // A remote agent's station is their number (tel:...); on a call, the trunk they are dialled on.
      (a) => [twoLine(a.name, a.trunk ? _("%(id)s · %(station)s via %(trunk)s", { id: a.id, station: a.station,
        trunk: a.trunk }) : `${a.id} · ${a.station}`, "agent-name"),
        badge(a.state, a.reason ? reasonLabel(a.reason) : null), counter(now - a.since),
        a.number ? el("span", "caller", a.number) : "—", a.queues.join(", ") || "—", number(a.calls),
        duration(a.talk_s)],
      canControl ? (tr, a, created) => {
        if (created) buildActions(tr, a.id);
        showActions(tr, a.state);
      } : null);

    syncRows(document.getElementById("queues"), s.queues, (q) => q.name,
      (q) => [twoLine(q.name, STRATEGIES[q.strategy] || q.strategy, "agent-name"), number(q.waiting),
        q.waiting ? counter(longestOf(q)) : "—", `${number(q.agents_ready)} / ${number(q.agents_logged_in)}`,
        number(q.agents_busy), number(q.offered), number(q.answered), number(q.abandoned)],
      (tr, q) => tr.classList.toggle("over-target", q.waiting > 0 && longestOf(q) > TARGET_S));

    syncRows(document.getElementById("lines"), s.lines, (l) => l.channel,
      (l) => [l.channel, el("span", "agent-name", l.name), KINDS[l.kind] || l.kind, badge(l.state),
        l.number ? el("span", "caller", l.number) : "—",
        l.since !== null && l.since !== undefined ? counter(now - l.since) : "—"]);
  }

  function tickCounters() {
    if (!live) return;
    const elapsed = (performance.now() - fetchedAt) / 1000;
    root.querySelectorAll(".live").forEach((span) => {
      span.textContent = duration(Number(span.dataset.base) + elapsed);
    });
  }

  // --- live events -------------------------------------------------------------------------------
  // The status's fields that an event of each type replaces (the events carry the status's names).
  const CALL_FIELDS = (d) => ({ id: d.call, number: d.number, name: d.name, channel: d.channel, state: d.phase,
    queue: d.queue, arrived_at: d.arrived_at, queued_at: d.queued_at, wait_s: null, agent: d.agent,
    priority: d.priority });

  function apply(s, type, d) {
    if (type === "agent") {
      const a = s.agents.find((x) => x.id === d.agent);
      if (a) Object.assign(a, { state: d.state, reason: d.reason, since: d.since, call_id: d.call, number: d.number,
        station: d.station, trunk: d.trunk, calls: d.calls, talk_s: d.talk_s });
    } else if (type === "call") {
      put(s.calls, "id", d.call, d.state === "ended" ? null : CALL_FIELDS(d));
    } else if (type === "queue") {
      put(s.queues, "name", d.name, Object.assign({}, d));
    } else if (type === "line") {
      put(s.lines, "channel", d.channel, Object.assign({}, d));
    } else if (type === "box") {
      Object.assign(s, { box: d.box, ticks: d.ticks });
    }
  }

  window.Live.follower({
    url: "/api/v1/status", root, banner, apply,
    render: (body) => {
      fetchedAt = performance.now();
      live = true;
      render(body);
    },
    onDown: () => { live = false; },
  });
  setInterval(tickCounters, 250);
})();
