// Lines page: reads /api/v1/lines once, then follows the live events; runs line tests and shows the
// digits each line hears, live.
"use strict";

(function () {
  const root = document.getElementById("lines-page");
  if (!root) return;

  const { el, put } = window.Live;
  const { gettext: _, ngettext, number, timeOfDay } = window.I18n;
  const DASH = "—";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const banner = document.getElementById("engine-banner");
  const table = document.getElementById("tech-lines");
  const tbody = table.tBodies[0];
  const heads = Array.from(table.tHead.rows[0].cells);
  const TEST_COL = heads.findIndex((th) => th.dataset.column === "test");
  const LABELS = {
    idle: _("Idle"), ringing: _("Ringing"), ivr: _("In IVR"), queued: _("Queued"), ringing_agent: _("Ringing agent"),
    connected: _("Connected"), dialing: _("Dialing"), alarm: _("Alarm"), testing: _("Testing"),
  };
  const KINDS = { trunk: _("trunk"), station: _("station") };

  const rows = new Map();      // channel -> {main, digits, open, line, seenAt}

  // --- small DOM helpers ------------------------------------------------------------------------

  // The engine's times are epoch seconds; digits come a tenth of a second apart, so tenths are shown.
  function stamp(epoch) {
    const date = new Date(epoch * 1000);
    return `${timeOfDay(date)}.${Math.floor(date.getMilliseconds() / 100)}`;
  }

  const num = (v) => (v === null || v === undefined ? DASH : number(v));

  function badge(state, text, detail) {
    const span = el("span", "st st-" + state, text || LABELS[state] || state);
    if (detail) span.append(" ", el("small", null, detail));
    return span;
  }

  function twoLine(main, sub, mainCls) {
    const box = el("div");
    box.append(main instanceof Node ? main : el("span", mainCls, main));
    if (sub) box.append(el("span", "sub", sub));
    return box;
  }

  // The last caller ID the line delivered; bursts that failed their checks are a line fault to see.
  function callerIdView(cid, unreadable) {
    const errors = unreadable ? ngettext("%(n)s unreadable", "%(n)s unreadable", unreadable) : "";
    if (!cid) return errors ? el("span", "alarm-text", errors) : DASH;
    if (cid.valid === false) return twoLine(_("unreadable"), [stamp(cid.at), errors].join(" · "), "alarm-text");
    return twoLine(cid.number || _("withheld"), [cid.name, stamp(cid.at), errors].filter(Boolean).join(" · "),
      "caller");
  }

  function setCell(td, content) {
    const node = content instanceof Node ? content : document.createTextNode(String(content));
    const sig = content instanceof Element ? content.outerHTML : "t:" + String(content);
    if (td.dataset.sig !== sig) {
      td.replaceChildren(node);
      td.dataset.sig = sig;
    }
  }

  // --- line tests -----------------------------------------------------------------------------------
  function testView(test) {
    if (!test) return el("span", "muted", _("not tested"));
    if (test.state === "running") {
      return twoLine(badge("testing", _("Testing…")), _("listening %(seconds)s s", { seconds: number(test.seconds) }));
    }
    const result = test.result || {};
    const when = test.finished_at ? stamp(test.finished_at) : "";
    let view;
    if (test.state === "failed") {
      view = twoLine(badge("failed", _("Not tested")), when);
      view.append(el("span", "alarm-text", result.detail));
    } else if (result.dial_tone) {
      const level = result.level_dbm0 === null || result.level_dbm0 === undefined ? ""
        : `${number(result.level_dbm0, 1)} dBm0 · `;
      view = twoLine(badge("answered", _("Dial tone")), level + when);
    } else {
      view = twoLine(badge("alarm", _("No dial tone")), when);
      view.append(el("span", "alarm-text", result.detail));
    }
    view.title = result.detail || "";
    return view;
  }

  // The engine answers the request at once with the running test; the line's own events carry it from
  // then on, its result included when the driver has it or the engine's grace is over (firmware/core/
  // engine.py _check_tests), so the page asks for nothing more.
  async function testLine(r, channel) {
    const button = r.main.querySelector("button[data-action=test]");
    const error = r.main.querySelector(".action-error");
    button.disabled = true;
    error.textContent = "";
    try {
      const res = await fetch(`/api/v1/lines/${channel}/test`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
        body: "{}",
      });
      const job = await res.json().catch(() => ({}));
      if (!res.ok) {
        error.textContent = job.error || _("The box answered %(status)s.", { status: res.status });
        return;
      }
      // Unless the line's event already told more of this very test (a test can end before its reply).
      const known = r.line.test;
      if (!known || known.job !== job.job) setCell(r.main.cells[TEST_COL], testView(job));
    } catch (err) {
      error.textContent = _("The web server is not answering.");
    } finally {
      button.disabled = false;
    }
  }

  // --- digits heard -----------------------------------------------------------------------------------
  function renderDigits(r) {
    const line = r.line;
    const list = line.digits || [];
    const toggle = r.main.querySelector("button[data-action=digits]");
    toggle.textContent = r.open ? _("Hide digits") : _("Digits");
    toggle.setAttribute("aria-expanded", r.open ? "true" : "false");
    r.digits.hidden = !r.open;
    const newest = list.length ? list[list.length - 1].at : null;
    if (r.open) {
      const box = el("div", "digits");
      box.append(el("span", "sub", list.length
        ? ngettext("%(line)s: %(n)s digit heard", "%(line)s: the last %(n)s digits heard, newest last", list.length,
          { line: line.name })
        : _("%(line)s: no digits heard yet; they appear here as the line hears them", { line: line.name })));
      for (const d of list) {
        const chip = el("span", "digit", d.digit);
        chip.append(el("small", null, stamp(d.at)));
        if (r.seenAt !== null && d.at > r.seenAt) chip.classList.add("is-new");
        box.append(chip);
      }
      setCell(r.digits.cells[0], box);
    }
    r.seenAt = newest;
  }

  // An E1 trunk's span (drivers/e1_span.py): its state, the alarms in force and the line's error counters.
  function spanView(span) {
    if (!span) return "";
    const lc = span.line_counters || {};
    const alarms = (span.alarms || []).length ? ` (${span.alarms.join(", ")})` : "";
    const counts = ["bpv", "crc", "slips"].filter((k) => lc[k] !== undefined).map((k) => `${k} ${lc[k]}`);
    return [`${span.name} ${span.state}${alarms}`, `R2 ${span.variant}`, ...counts].join(" · ");
  }

  // --- rows ---------------------------------------------------------------------------------------------
  function buildRow(line) {
    const main = el("tr");
    main.dataset.key = String(line.channel);
    main.dataset.line = line.name;
    for (const th of heads) main.append(el("td", th.className));
    const digits = el("tr", "digits-row");
    digits.dataset.line = line.name;
    const cell = el("td");
    cell.colSpan = heads.length;
    digits.append(cell);
    const r = { main, digits, open: false, line, seenAt: null };

    const actions = el("div", "actions");
    const test = el("button", "btn btn-sm btn-ghost", _("Test line"));
    test.type = "button";
    test.dataset.action = "test";
    test.title = _("Take the line off-hook and listen for dial tone");
    test.addEventListener("click", () => testLine(r, line.channel));
    const toggle = el("button", "btn btn-sm btn-ghost", _("Digits"));
    toggle.type = "button";
    toggle.dataset.action = "digits";
    toggle.addEventListener("click", () => {
      r.open = !r.open;
      renderDigits(r);
    });
    actions.append(test, toggle);
    const error = el("div", "action-error");
    error.setAttribute("role", "alert");
    main.cells[heads.length - 1].replaceChildren(actions, error);
    return r;
  }

  function render(s) {
    const seen = new Set();
    let previous = null;
    for (const line of s.lines) {
      let r = rows.get(line.channel);
      if (!r) {
        r = buildRow(line);
        rows.set(line.channel, r);
      }
      r.line = line;
      seen.add(line.channel);
      const c = line.counters || {};
      const cid = line.last_caller_id;
      const driverState = line.driver_state && line.driver_state !== line.state ? line.driver_state : null;
      const cells = [
        twoLine(line.name, _("ch %(channel)s · %(kind)s", { channel: line.channel, kind: KINDS[line.kind] || line.kind }),
          "agent-name"),
        twoLine(line.driver || DASH, [line.device || "", spanView(line.span)].filter(Boolean).join(" · "), "mono"),
        twoLine(badge(line.state, null, driverState), line.number ? line.number : ""),
        line.alarm ? el("span", "alarm-text", line.alarm) : DASH,
        callerIdView(cid, c.unreadable_ids),
        num(c.calls), num(c.far_end_clears), num(c.digits), num(c.resets), num(c.overruns),
      ];
      cells.forEach((content, i) => setCell(r.main.cells[i], content));
      setCell(r.main.cells[TEST_COL], testView(line.test));
      r.main.classList.toggle("in-alarm", Boolean(line.alarm));
      renderDigits(r);
      const wanted = previous ? previous.nextSibling : tbody.firstChild;
      if (wanted !== r.main) tbody.insertBefore(r.main, wanted);
      if (r.main.nextSibling !== r.digits) tbody.insertBefore(r.digits, r.main.nextSibling);
      previous = r.digits;
    }
    rows.forEach((r, channel) => {
      if (!seen.has(channel)) {
        r.main.remove();
        r.digits.remove();
        rows.delete(channel);
      }
    });
    const empty = tbody.querySelector("tr.empty");
    if (s.lines.length && empty) empty.remove();
    if (!s.lines.length && !empty) {
      const tr = el("tr", "empty");
      const td = el("td", null, tbody.dataset.empty);
      td.colSpan = heads.length;
      tr.append(td);
      tbody.append(tr);
    }

    const alarms = s.lines.filter((l) => l.alarm).length;
    const inUse = s.lines.filter((l) => l.state !== "idle" && l.state !== "alarm").length;
    document.getElementById("n-lines").textContent = ngettext("%(n)s line · %(in_use)s in use · %(alarms)s in alarm",
      "%(n)s lines · %(in_use)s in use · %(alarms)s in alarm", s.lines.length,
      { in_use: number(inUse), alarms: number(alarms) });
    document.getElementById("boxline").textContent = _("Box %(id)s · board %(board)s · %(mode)s mode · updated %(time)s",
      { id: s.box.id, board: s.box.board, mode: s.box.mode, time: timeOfDay(new Date()) });
    renderWorkers(s.workers || {});
    renderGroups(s.trunk_groups || [], s.lines);
  }

  // --- trunk groups -------------------------------------------------------------------------------
  // The groups' settings come with the page's first read; the trunks each holds are counted from the
  // lines as their live events change them (a line's trunk_group: null while it carries nothing).
  const groupPanel = document.getElementById("trunk-groups");
  const groupBody = document.querySelector("#trunk-group-table tbody");

  function renderGroups(groups, lines) {
    groupPanel.hidden = !groups.length;
    if (!groups.length) return;
    const held = new Map();
    for (const l of lines) {
      if (l.kind === "trunk" && l.trunk_group !== null && l.trunk_group !== undefined) {
        held.set(l.trunk_group, (held.get(l.trunk_group) || 0) + 1);
      }
    }
    groupBody.replaceChildren(...groups.map((g) => {
      const inUse = held.get(g.name) || 0;
      const tr = el("tr");
      const atCap = g.cap !== null && inUse >= g.cap;
      tr.classList.toggle("in-alarm", atCap);
      for (const content of [g.name || _("(no group)"), atCap ? el("strong", null, number(inUse)) : number(inUse),
        g.name ? number(g.guaranteed) : DASH, g.cap === null ? DASH : number(g.cap),
        g.name ? number(Math.max(0, inUse - g.guaranteed)) : DASH]) {
        const td = el("td");
        td.append(content);
        tr.append(td);
      }
      for (const i of [1, 2, 3, 4]) tr.cells[i].className = "num";
      return tr;
    }));
  }

  // --- engine workers -----------------------------------------------------------------------------
  // A dead or stuck worker loses records from then on: a red alarm above everything. A worker waiting
  // on a lock or a full card loses nothing yet, but the technician should find out why: amber.
  const WORKERS = { store: _("Call records (database)"), journal: _("Queue journal"), recorder: _("Recordings") };
  const workerAlarm = document.getElementById("worker-alarm");
  const workerBody = document.querySelector("#workers tbody");

  function renderWorkers(workers) {
    const faults = [];
    const waits = [];
    const rows = [];
    for (const [name, label] of Object.entries(WORKERS)) {
      const w = workers[name];
      if (!w) continue;
      let state;
      let detail = w.last_error ? _("last error: %(error)s", { error: w.last_error }) : "";
      if (!w.alive) {
        state = badge("fault", _("Fault"));
        detail = w.fault;
        faults.push(`${label}: ${w.fault}`);
      } else if (w.waiting) {
        const since = timeOfDay(new Date(w.waiting.since * 1000));
        state = badge("waiting", _("Waiting"));
        detail = _("since %(time)s: %(reason)s", { time: since, reason: w.waiting.reason });
        waits.push(_("%(worker)s waits since %(time)s: %(reason)s", { worker: label, time: since,
          reason: w.waiting.reason }));
      } else {
        state = badge("ready", _("Working"));
      }
      const tr = el("tr");
      tr.dataset.worker = name;
      tr.classList.toggle("in-alarm", !w.alive);
      for (const content of [label, state, detail ? el("span", w.alive ? null : "alarm-text", detail) : DASH,
        num(w.backlog), num(w.rejected), num(w.errors)]) {
        const td = el("td");
        td.append(content);
        tr.append(td);
      }
      for (const i of [3, 4, 5]) tr.cells[i].className = "num";
      rows.push(tr);
    }
    if (!rows.length) {
      const tr = el("tr", "empty");
      const td = el("td", null, workerBody.dataset.empty);
      td.colSpan = 6;
      tr.append(td);
      rows.push(tr);
    }
    workerBody.replaceChildren(...rows);

    if (faults.length) {
      workerAlarm.className = "banner";
      workerAlarm.replaceChildren(el("strong", null, _("Records are not being written.")),
        el("span", "banner-detail", faults.join(" · ")));
    } else if (waits.length) {
      workerAlarm.className = "banner banner-warn";
      workerAlarm.replaceChildren(el("strong", null, _("Records wait to be written; none is lost.")),
        el("span", "banner-detail", waits.join(" · ")));
    }
    workerAlarm.hidden = !faults.length && !waits.length;
  }

  // --- live events -------------------------------------------------------------------------------
  function apply(s, type, d) {
    if (type === "line") put(s.lines, "channel", d.channel, Object.assign({}, d));
    else if (type === "box") {
      s.box = d.box;
      // The worker threads, as the lines API names them (webui/lines.py WORKERS).
      s.workers = {};
      ["store", "journal", "recorder"].forEach((name) => { if (d[name]) s.workers[name] = d[name]; });
    }
  }

  window.Live.follower({ url: "/api/v1/lines", root, banner, render, apply });
})();


// HQ sync panel: what head office has and has not taken, and how old the oldest record it lacks is.
(function () {
  const panel = document.getElementById("hq-sync");
  if (!panel) return;
  const POLL_MS = 5000;
  const summary = document.getElementById("hq-summary");
  const tbody = document.querySelector("#hq-tokens tbody");
  const { gettext: _, ngettext, number, dateTime } = window.I18n;
  const when = (t) => (t ? dateTime(new Date(t * 1000)) : "—");
  const age = (s) => (s === null || s === undefined ? "—"
    : s < 120 ? _("%(n)s s", { n: number(Math.round(s)) })
      : s < 7200 ? _("%(n)s min", { n: number(Math.round(s / 60)) }) : _("%(n)s h", { n: number(s / 3600, 1) }));
  const mb = (b) => _("%(n)s MB", { n: number(b / 1048576, 1) });

  function render(s) {
    const files = Object.values(s.files_not_taken || {});
    const fileCount = files.reduce((n, f) => n + f.not_taken, 0);
    const fileBytes = files.reduce((n, f) => n + f.bytes, 0);
    const oldest = s.oldest_not_taken;
    summary.textContent = s.not_taken === 0
      ? _("Head office holds every record (up to change %(seq)s).", { seq: s.latest_seq })
      : [ngettext("Not yet taken by head office: %(n)s record and %(files)s files (%(size)s);",
        "Not yet taken by head office: %(n)s records and %(files)s files (%(size)s);", s.not_taken,
        { files: number(fileCount), size: mb(fileBytes) }),
      oldest ? _("oldest: %(table)s %(id)s, %(age)s old.", { table: oldest.table, id: oldest.id, age: age(oldest.age_s) })
        : "",
      _("Taken up to change %(acked)s of %(latest)s.", { acked: s.acked_seq ?? 0, latest: s.latest_seq }),
      ].filter(Boolean).join(" ");
    summary.className = "crumbs" + (oldest && oldest.age_s > 86400 ? " is-alarm" : "");
    tbody.replaceChildren();
    if (!s.hq_tokens.length) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = document.createElement("td");
      td.colSpan = 6;
      td.textContent = tbody.dataset.empty;
      tr.append(td);
      tbody.append(tr);
    }
    for (const t of s.hq_tokens) {
      const tr = document.createElement("tr");
      for (const v of [t.name, when(t.created_at), t.acked_seq ?? "—", when(t.acked_at), t.acked_from || "—",
        t.revoked_at ? when(t.revoked_at) : "—"]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.append(td);
      }
      tr.cells[2].className = "num";
      tbody.append(tr);
    }
  }

  async function poll() {
    try {
      const res = await fetch("/api/v1/hq/status", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (res.ok) render(await res.json());
      else summary.textContent = _("The box answered %(status)s for the HQ sync status.", { status: res.status });
    } catch (err) {
      summary.textContent = _("The web server is not answering.");
    }
    setTimeout(poll, POLL_MS);
  }
  poll();
})();
