// The supervisors' wallboard: GET /api/v1/wallboard kept current by the live events (live.js follower over
// events.js, never a poll); a supervisor acts on an agent's row with a button or a key.
"use strict";

(function () {
  const root = document.getElementById("wallboard");
  if (!root) return;

  const { el, duration, put } = window.Live;
  const { gettext: _, ngettext, number } = window.I18n;
  const LABELS = JSON.parse(root.dataset.labels);
  const LEVELS = JSON.parse(root.dataset.thresholds);
  const banner = document.getElementById("engine-banner");
  const actAs = document.getElementById("act-as");
  const listening = document.getElementById("listening");
  const stopButton = document.getElementById("stop-listening");
  const help = document.getElementById("keys-help");
  const queuesTable = document.getElementById("wb-queues");
  const agentsTable = document.getElementById("wb-agents");
  const template = document.getElementById("wb-actions");
  // What the supervisor does, as the board says it to them and beside the agent's state.
  const YOU = {
    monitor: (agent) => _("You are monitoring %(agent)s", { agent }),
    whisper: (agent) => _("You are whispering to %(agent)s", { agent }),
    barge: (agent) => _("You have barged in on %(agent)s", { agent }),
  };
  const BY = {
    monitor: (supervisor) => _("monitored by %(supervisor)s", { supervisor }),
    whisper: (supervisor) => _("coached by %(supervisor)s", { supervisor }),
    barge: (supervisor) => _("%(supervisor)s barged in", { supervisor }),
  };
  // Which actions fit an agent's state: the engine refuses the others (and says why), but a button
  // that cannot work is not offered. Listening in and ending a call need an agent talking.
  const ON_CALL = ["monitor", "whisper", "barge", "intercept", "hangup"];
  const FITS = {
    talking: [...ON_CALL, "force_not_ready", "force_logout"],
    ringing: ["force_not_ready", "force_logout"],
    wrapup: ["force_ready", "force_not_ready", "force_logout"],
    ready: ["force_not_ready", "force_logout"],
    not_ready: ["force_ready", "force_not_ready", "force_logout"],
    logged_out: [],
  };

  // The board as last drawn: rows by id, in the live events' shapes (GET /api/v1/events).
  const queues = new Map();
  const agents = new Map();
  const supervisors = new Map();
  let clockOffset = 0;         // engine's clock minus this browser's, in s
  let engineNow = null;        // the engine time the offset was taken at

  const nowS = () => Date.now() / 1000 + clockOffset;
  const actingAs = () => (actAs ? actAs.value : root.dataset.supervisor);

  // --- queues ---------------------------------------------------------------------------------------
  // "warn"/"alarm" by the site's [wallboard] thresholds (config/site.toml, /config/wallboard).
  function waitLevel(q) {
    if (!q.waiting) return "";
    if (q.longest_wait >= LEVELS.longest_wait_alarm) return "alarm";
    return q.longest_wait >= LEVELS.longest_wait_warn ? "warn" : "ok";
  }

  function serviceLevel(q) {
    if (q.service_level === null || q.service_level === undefined) return "";
    const percent = q.service_level * 100;
    if (percent < LEVELS.service_level_alarm) return "alarm";
    return percent < LEVELS.service_level_warn ? "warn" : "ok";
  }

  // The queue's longest wait now: counted on from when that caller came (`oldest_since`).
  function longestWait(q) {
    if (!q.waiting) return 0;
    return q.oldest_since ? Math.max(0, nowS() - q.oldest_since) : q.longest_wait;
  }

  function cell(text, level) {
    return el("td", "num" + (level ? " lv-" + level : ""), text);
  }

  function queueRow(q) {
    const tr = el("tr");
    tr.dataset.queue = q.queue;
    const name = el("td", "agent-name", q.queue);
    const sl = q.service_level === null || q.service_level === undefined ? "—"
      : `${number(Math.round(q.service_level * 100))} %`;
    const now = Object.assign({}, q, { longest_wait: longestWait(q) });
    const longest = cell(q.waiting ? duration(now.longest_wait) : "—", waitLevel(now));
    longest.classList.add("wb-longest");
    tr.append(name, cell(number(q.waiting), waitLevel(now)), longest,
      cell(sl, serviceLevel(q)), cell(number(q.offered)), cell(number(q.answered)),
      cell(number(q.abandoned)),
      cell(q.asa === null || q.asa === undefined ? "—" : duration(q.asa)),
      cell(`${number(q.agents_ready || 0)} / ${number(q.agents_logged_in || 0)}`, q.waiting && !q.agents_ready ? "alarm" : ""));
    tr.cells[3].title = _("target: %(seconds)s s", { seconds: number(q.target) });
    return tr;
  }

  function tile(id, value, level) {
    const node = document.getElementById(id);
    node.className = "tile" + (level ? " is-" + level : "");
    node.querySelector(".tile-value").textContent = value;
  }

  // The whole branch at a glance (a TV across the room): the queues' sums, the worst wait, the
  // service level of every caller offered today, the agents free to take the next.
  function renderTiles() {
    const all = [...queues.values()];
    const waiting = all.reduce((n, q) => n + q.waiting, 0);
    const worst = all.filter((q) => q.waiting).reduce((w, q) => Math.max(w, longestWait(q)), 0);
    const offered = all.reduce((n, q) => n + (q.service_level === null || q.service_level === undefined ? 0 : q.offered), 0);
    const inTarget = all.reduce((n, q) => n + (q.service_level ? q.service_level * q.offered : 0), 0);
    const overall = offered ? { service_level: inTarget / offered } : { service_level: null };
    const ready = [...agents.values()].filter((a) => a.state === "ready").length;
    const loggedIn = [...agents.values()].filter((a) => a.state !== "logged_out").length;
    tile("wb-t-waiting", number(waiting), waiting ? waitLevel({ waiting, longest_wait: worst }) || "ok" : "ok");
    tile("wb-t-longest", waiting ? duration(worst) : "0:00", waitLevel({ waiting, longest_wait: worst }) || "ok");
    tile("wb-t-service", overall.service_level === null ? "—" : `${number(Math.round(overall.service_level * 100))} %`,
      serviceLevel(overall));
    tile("wb-t-ready", `${number(ready)} / ${number(loggedIn)}`, ready ? "ok" : waiting ? "alarm" : "");
  }

  function renderQueues() {
    const tbody = queuesTable.tBodies[0];
    const rows = [...queues.values()].sort((a, b) => a.queue.localeCompare(b.queue)).map(queueRow);
    if (!rows.length) {
      const td = el("td", "empty", tbody.dataset.empty);
      td.colSpan = queuesTable.tHead.rows[0].cells.length;
      const tr = el("tr", "empty");
      tr.append(td);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
  }

  // --- agents ---------------------------------------------------------------------------------------
  function agentRow(agentId) {
    return agentsTable.tBodies[0].querySelector(`tr[data-agent="${CSS.escape(agentId)}"]`);
  }

  function listenerOf(agentId) {
    return [...supervisors.values()].find((s) => s.agent === agentId && s.mode);
  }

  function fillAgent(tr, a) {
    const state = el("span", "st st-" + a.state, LABELS[a.state] || a.state);
    if (a.state === "not_ready" && a.reason) state.append(" ", el("small", null, _(a.reason)));
    if (a.held) state.append(" ", el("small", null, _("on hold")));
    const stateCell = el("td");
    stateCell.append(state);
    const sup = listenerOf(a.agent);
    if (sup && BY[sup.mode]) stateCell.append(" ", el("span", "wb-listener", BY[sup.mode](sup.name || sup.supervisor)));
    const since = el("td", "num wb-since", a.since ? duration(nowS() - a.since) : "—");
    since.dataset.since = a.since ? String(a.since) : "";
    const caller = a.call ? (numbers[a.call] || a.number || a.call) : null;
    const callCell = el("td", "caller", caller || "—");
    const who = el("td");
    who.append(el("span", "agent-name", a.name || a.agent), el("span", "sub", a.agent + (a.remote ? " · " + _("remote") : "")));
    const cells = [who, stateCell, since, callCell];
    // The actions cell is kept, so a reason being chosen or an error shown survives an event.
    while (tr.cells.length > 1) tr.deleteCell(0);
    if (!tr.cells.length) {
      const actions = el("td", "actions-col");
      actions.append(template.content.cloneNode(true));
      actions.querySelectorAll("button[data-action]").forEach((b) => {
        b.addEventListener("click", () => act(tr, b.dataset.action));
      });
      tr.append(actions);
    }
    cells.forEach((c) => tr.insertBefore(c, tr.lastElementChild));
    const fits = FITS[a.state] || [];
    // Only what fits is offered; the keys of the others answer with why not (act).
    tr.querySelectorAll("button[data-action]").forEach((b) => { b.hidden = !fits.includes(b.dataset.action); });
    tr.querySelector(".reason").hidden = !fits.includes("force_not_ready");
    tr.dataset.state = a.state;
    tr.dataset.call = a.call || "";
    tr.setAttribute("aria-label", `${a.name || a.agent}, ${LABELS[a.state] || a.state}`);
  }

  function renderAgent(a) {
    const tbody = agentsTable.tBodies[0];
    let tr = agentRow(a.agent);
    if (!tr) {
      tr = el("tr", "wb-agent");
      tr.dataset.agent = a.agent;
      tr.tabIndex = 0;
      const after = [...tbody.querySelectorAll("tr[data-agent]")].find((r) => r.dataset.agent.localeCompare(a.agent) > 0);
      tbody.insertBefore(tr, after || null);
      tbody.querySelector("tr.empty")?.remove();
    }
    fillAgent(tr, a);
  }

  function renderAgentSummary() {
    const all = [...agents.values()];
    const count = (state) => all.filter((a) => a.state === state).length;
    document.getElementById("wb-agent-count").textContent = number(all.length);
    document.getElementById("wb-agent-states").textContent = [
      ngettext("%(n)s ready", "%(n)s ready", count("ready")),
      ngettext("%(n)s talking", "%(n)s talking", count("talking")),
      ngettext("%(n)s in wrap-up", "%(n)s in wrap-up", count("wrapup")),
      ngettext("%(n)s not ready", "%(n)s not ready", count("not_ready")),
    ].join(" · ");
  }

  function renderAllAgents() {
    const tbody = agentsTable.tBodies[0];
    tbody.querySelectorAll("tr[data-agent]").forEach((tr) => { if (!agents.has(tr.dataset.agent)) tr.remove(); });
    agents.forEach(renderAgent);
    if (!agents.size && !tbody.querySelector("tr.empty")) {
      const td = el("td", "empty", tbody.dataset.empty);
      td.colSpan = agentsTable.tHead.rows[0].cells.length;
      const tr = el("tr", "empty");
      tr.append(td);
      tbody.append(tr);
    }
    renderAgentSummary();
  }

  // --- the supervisor's own listening ---------------------------------------------------------------
  function renderListening() {
    const own = supervisors.get(actingAs());
    const on = own && own.call && own.agent;
    if (on) {
      const agent = agents.get(own.agent);
      const name = agent ? agent.name || own.agent : own.agent;
      // Intercepted, the supervisor is the agent on the call now (firmware/callcenter/supervisors.py TALKING).
      listening.textContent = own.state === "talking" ? _("You took the call over from %(agent)s", { agent: name })
        : own.state === "ringing" || !YOU[own.mode] ? _("Your phone is ringing: pick it up to join")
          : YOU[own.mode](name);
    } else {
      listening.textContent = "";
    }
    stopButton.hidden = !on;
  }

  // --- drawing the board ----------------------------------------------------------------------------
  let numbers = {};            // call id -> the caller's number, from `call` events

  function render(board) {
    if (board.box && board.box.now !== engineNow) {
      engineNow = board.box.now;
      clockOffset = engineNow - Date.now() / 1000;
    }
    numbers = board.numbers || {};
    queues.clear();
    board.queues.forEach((q) => queues.set(q.queue, q));
    agents.clear();
    board.agents.forEach((a) => agents.set(a.agent, a));
    supervisors.clear();
    board.supervisors.forEach((sup) => supervisors.set(sup.supervisor, sup));
    renderQueues();
    renderAllAgents();
    renderTiles();
    renderListening();
    document.getElementById("boxline").textContent = "";
  }

  // Each event into the board (the follower draws after them): rows replaced by their new state.
  function apply(board, type, data) {
    const merge = (list, key) => put(list, key, data[key], Object.assign({}, list.find((x) => x[key] === data[key]), data));
    if (type === "queue") merge(board.queues, "queue");
    else if (type === "agent") merge(board.agents, "agent");
    else if (type === "supervisor") merge(board.supervisors, "supervisor");
    else if (type === "call") {
      board.numbers = board.numbers || {};
      if (data.state === "ended") delete board.numbers[data.call];
      else if (data.number) board.numbers[data.call] = data.number;
    }
  }

  // --- actions --------------------------------------------------------------------------------------
  async function act(tr, action) {
    const error = tr.querySelector(".action-error");
    const supervisor = actingAs();
    error.textContent = "";
    if (!supervisor) {
      error.textContent = _("Your account is not linked to a supervisor id. Ask an administrator to link it.");
      return;
    }
    const button = tr.querySelector(`button[data-action="${action}"]`);
    if (button && button.hidden) {
      error.textContent = _("%(action)s does not fit an agent who is %(state)s.", {
        action: button.firstChild.textContent.trim(), state: LABELS[tr.dataset.state] || tr.dataset.state });
      return;
    }
    const body = { agent: tr.dataset.agent };
    // The call the row shows: a stale board must not act on the agent's next call.
    if (ON_CALL.includes(action) && tr.dataset.call) body.call = tr.dataset.call;
    if (action === "force_not_ready") body.reason = tr.querySelector(".reason").value;
    tr.classList.add("busy");
    const reply = await window.Api.call("POST", `/api/v1/supervisors/${encodeURIComponent(supervisor)}/${action}`,
      body, _("The web server is not answering."));
    tr.classList.remove("busy");
    if (!reply.ok) error.textContent = reply.error;
  }

  async function stop() {
    const supervisor = actingAs();
    if (!supervisor) return;
    const reply = await window.Api.call("POST", `/api/v1/supervisors/${encodeURIComponent(supervisor)}/stop`, {},
      _("The web server is not answering."));
    listening.textContent = reply.ok ? listening.textContent : reply.error;
  }

  // --- keyboard -------------------------------------------------------------------------------------
  const KEYS = {};
  template.content.querySelectorAll("button[data-key]").forEach((b) => { KEYS[b.dataset.key] = b.dataset.action; });

  function rows() {
    return [...agentsTable.tBodies[0].querySelectorAll("tr[data-agent]")];
  }

  function currentRow() {
    return document.activeElement ? document.activeElement.closest("tr[data-agent]") : null;
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.indexOf(currentRow());
    const next = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + step));
    all[next].focus();
  }

  function toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else root.requestFullscreen().catch(() => { listening.textContent = _("This browser does not allow full screen here."); });
  }

  document.addEventListener("keydown", (ev) => {
    // Keys with a modifier are the browser's; a field being typed in keeps its letters.
    if (ev.ctrlKey || ev.altKey || ev.metaKey || ev.defaultPrevented) return;
    if (ev.target.closest("input, select, textarea, [contenteditable]")) return;
    if (help.open) return;   // the dialog's own keys: Esc closes it
    const key = ev.key;
    let handled = true;
    if (key === "?") help.showModal();
    else if (key === "ArrowDown" || key === "j") move(1);
    else if (key === "ArrowUp" || key === "k") move(-1);
    else if (key === "f") toggleFullscreen();
    else if (key === "s") stop();
    else if (KEYS[key] && currentRow()) act(currentRow(), KEYS[key]);
    else handled = false;
    if (handled) ev.preventDefault();
  });

  document.getElementById("keys-open").addEventListener("click", () => help.showModal());
  document.getElementById("fullscreen").addEventListener("click", toggleFullscreen);
  stopButton.addEventListener("click", stop);
  if (actAs) actAs.addEventListener("change", renderListening);

  // Times in state and the longest waits count on between events.
  setInterval(() => {
    const now = nowS();
    agentsTable.querySelectorAll("td.wb-since").forEach((td) => {
      if (td.dataset.since) td.textContent = duration(now - Number(td.dataset.since));
    });
    let worst = null;
    queuesTable.querySelectorAll("td.wb-longest").forEach((td) => {
      const q = queues.get(td.parentElement.dataset.queue);
      if (!q || !q.waiting) return;
      const wait = longestWait(q);
      td.textContent = duration(wait);
      const level = waitLevel(Object.assign({}, q, { longest_wait: wait }));
      td.className = "num wb-longest" + (level ? " lv-" + level : "");
      worst = Math.max(worst || 0, wait);
    });
    if (worst !== null) tile("wb-t-longest", duration(worst), waitLevel({ waiting: 1, longest_wait: worst }) || "ok");
  }, 1000);

  // The snapshot once, then its events; read again when the stream cannot replay what was missed.
  window.Live.follower({ url: "/api/v1/wallboard", root, banner, render, apply });
})();
