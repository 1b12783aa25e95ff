// IVR flow editor: the flow's text checked by the engine as it is typed (debounced), each problem
// shown at its line and on the graph (laid out by the vendored dagre, drawn here as SVG), the prompts
// it plays with a play button, recordings uploaded, and the flow saved against the version it came from.
"use strict";

(function () {
  const root = document.getElementById("flow-editor");
  if (!root) return;

  const NAME = root.dataset.name;
  const MAX_TEXT = Number(root.dataset.maxText);
  // Checking costs the engine a command: one per pause in typing, not one per key.
  const CHECK_DELAY_MS = 400;
  const SVG = "http://www.w3.org/2000/svg";
  const STARTER = '[flow]\nstart = "welcome"\n\n[nodes.welcome]\ntype = "play"\nprompts = ["welcome"]\n' +
    'next = "goodbye"\n\n[nodes.goodbye]\ntype = "hangup"\nprompts = ["goodbye"]\n';
  const T = document.getElementById("flow-strings").dataset;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  const text = document.getElementById("flow-text");
  const gutter = document.getElementById("flow-gutter");
  const verdict = document.getElementById("flow-verdict");
  const problemsList = document.getElementById("flow-problems");
  const graphBox = document.getElementById("flow-graph");
  const saveBtn = document.getElementById("flow-save");
  const revertBtn = document.getElementById("flow-revert");
  const savedNote = document.getElementById("flow-saved");
  const banner = document.getElementById("flow-banner");
  const promptRows = document.getElementById("flow-prompts").tBodies[0];
  const upload = document.getElementById("prompt-upload");
  const uploadResult = document.getElementById("prompt-result");
  const runningBadge = document.getElementById("running-badge");

  const help = document.getElementById("node-help");
  const state = { version: null, saved: "", report: null, checkSeq: 0, timer: null, recordings: new Map(),
    schema: null, helpType: undefined };
  const player = new Audio();

  function el(tag, cls, content) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined && content !== null) node.append(content);
    return node;
  }

  function svg(tag, attrs, content) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)[sd]/g, (_, key) => String(values[key]));
  }

  function showBanner(message) {
    banner.hidden = !message;
    banner.textContent = message || "";
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin" };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    const reply = await fetch(path, init);
    let data = null;
    try { data = await reply.json(); } catch (e) { data = { error: reply.statusText }; }
    return { status: reply.status, data };
  }

  // --- text, gutter and dirty state ----------------------------------------------------------
  function goToLine(line) {
    const lines = text.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    text.focus();
    text.setSelectionRange(start, start + (lines[line - 1] || "").length);
    const lineHeight = text.scrollHeight / Math.max(lines.length, 1);
    text.scrollTop = Math.max(0, (line - 4) * lineHeight);
    gutter.scrollTop = text.scrollTop;
    showHelp();
  }

  // The line of each node's table header, to jump to a node from the graph.
  function nodeLines() {
    const found = new Map();
    text.value.split("\n").forEach((line, i) => {
      const m = line.match(/^\s*\[\s*nodes\s*\.\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*\]/);
      if (m) {
        const name = m[1] ?? m[2] ?? m[3];
        if (!found.has(name)) found.set(name, i + 1);
      }
    });
    return found;
  }

  function drawGutter() {
    const count = text.value.split("\n").length;
    const marks = new Map();
    for (const p of (state.report && state.report.problems) || []) {
      if (p.line) marks.set(p.line, (marks.get(p.line) ? marks.get(p.line) + "\n" : "") + describe(p));
    }
    const rows = [];
    for (let i = 1; i <= count; i++) {
      const span = el("span", marks.has(i) ? "ln err" : "ln", String(i));
      if (marks.has(i)) span.title = marks.get(i);
      rows.push(span, "\n");
    }
    gutter.replaceChildren(...rows);
    gutter.scrollTop = text.scrollTop;
  }

  function dirty() { return text.value !== state.saved; }

  function updateButtons() {
    const valid = state.report && state.report.valid;
    saveBtn.disabled = !dirty() || !valid || text.value.length > MAX_TEXT;
    revertBtn.disabled = !dirty() || state.version === null;
    if (dirty()) savedNote.textContent = T.unsaved;
  }

  // --- checking ---------------------------------------------------------------------------------
  function describe(p) {
    const where = p.node ? (p.field ? `${p.node} · ${p.field}` : p.node) : (p.field || T.flow);
    return `${where}: ${p.message}`;
  }

  function scheduleCheck() {
    clearTimeout(state.timer);
    verdict.textContent = T.checking;
    state.timer = setTimeout(check, CHECK_DELAY_MS);
  }

  async function check() {
    const seq = ++state.checkSeq;
    let reply;
    try {
      reply = await api("POST", "/api/v1/flows/validate", { text: text.value, name: NAME });
    } catch (e) {
      reply = { status: 0, data: { error: String(e) } };
    }
    if (seq !== state.checkSeq) return;   // an answer to an older text
    if (reply.status !== 200) {
      showBanner(reply.status === 503 ? T.engine : reply.data.error);
      verdict.textContent = "";
      state.report = null;
      updateButtons();
      return;
    }
    showBanner(null);
    showReport(reply.data);
  }

  function showReport(report) {
    state.report = report;
    runningBadge.hidden = report.running !== NAME;
    const n = report.problems.length;
    // The catalogue gives the singular and the plural form (enough for English and Chinese).
    verdict.textContent = n ? fill(n === 1 ? T.problem : T.problems, { n }) : T.valid;
    verdict.className = n ? "count bad" : "count good";
    problemsList.replaceChildren(...report.problems.map((p) => {
      const item = el("li", "problem");
      const link = el("button", "linklike", p.line ? `${T.line} ${p.line}` : "—");
      link.type = "button";
      if (p.line) link.addEventListener("click", () => goToLine(p.line));
      else link.disabled = true;
      item.append(link, " ", el("span", null, describe(p)));
      item.dataset.node = p.node;
      return item;
    }));
    drawGutter();
    drawGraph(report.graph);
    drawPrompts(report.graph.prompts);
    updateButtons();
  }

  // --- graph --------------------------------------------------------------------------------------
  const CHAR_W = 7.2;   // px per character of the node font (13px monospace-ish), for box sizes

  function drawGraph(graph) {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 46, edgesep: 12, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    const problemsOf = new Map();
    for (const p of state.report.problems) problemsOf.set(p.node, (problemsOf.get(p.node) || []).concat(describe(p)));
    for (const node of graph.nodes) {
      const label = node.name, sub = node.type || "?";
      g.setNode(node.name, { node, width: Math.max(label.length, sub.length + 2) * CHAR_W + 24, height: 42 });
    }
    for (const name of graph.missing_nodes) {
      g.setNode(name, { missing: true, width: name.length * CHAR_W + 24, height: 32 });
    }
    graph.edges.forEach((e, i) => {
      g.setEdge(e.from, e.to, { edge: e, width: e.label.length * 6.5 + 6, height: 14, labelpos: "c" }, `e${i}`);
    });
    dagre.layout(g);
    const size = g.graph();
    const canvas = svg("svg", { class: "flow-svg", width: Math.ceil(size.width), height: Math.ceil(size.height),
      viewBox: `0 0 ${Math.ceil(size.width)} ${Math.ceil(size.height)}` });
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
      markerHeight: 7, orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }));
    defs.append(marker);
    canvas.append(defs);
    const lines = nodeLines();
    for (const id of g.edges()) {
      const data = g.edge(id);
      const pts = data.points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
      const group = svg("g", { class: "edge" + (data.edge.missing ? " missing" : ""), "data-from": data.edge.from,
        "data-to": data.edge.to, "data-label": data.edge.label });
      group.append(svg("polyline", { points: pts, "marker-end": "url(#arrow)" }));
      const label = svg("text", { x: data.x, y: data.y + 4, "text-anchor": "middle", class: "edge-label" },
        data.edge.label);
      group.append(label);
      canvas.append(group);
    }
    for (const name of g.nodes()) {
      const data = g.node(name);
      const node = data.node;
      const classes = ["node"];
      if (data.missing) classes.push("missing");
      if (node && node.start) classes.push("start");
      if (node && node.unreachable) classes.push("unreachable");
      if (problemsOf.has(name)) classes.push("problem");
      const group = svg("g", { class: classes.join(" "), "data-node": name,
        transform: `translate(${(data.x - data.width / 2).toFixed(1)},${(data.y - data.height / 2).toFixed(1)})` });
      group.append(svg("rect", { width: data.width, height: data.height, rx: 6 }));
      group.append(svg("text", { x: data.width / 2, y: data.missing ? 20 : 18, "text-anchor": "middle",
        class: "node-name" }, name));
      if (!data.missing) {
        group.append(svg("text", { x: data.width / 2, y: 33, "text-anchor": "middle", class: "node-type" },
          node.type || "?"));
      }
      const tips = [];
      if (data.missing) tips.push(T.missing);
      if (node && node.prompts.length) tips.push("♪ " + node.prompts.join(", "));
      tips.push(...(problemsOf.get(name) || []));
      if (tips.length) group.append(svg("title", {}, tips.join("\n")));
      if (lines.has(name)) group.addEventListener("click", () => goToLine(lines.get(name)));
      canvas.append(group);
    }
    graphBox.replaceChildren(canvas);
  }

  // --- the keys of the node being edited, from the engine's schema ------------------------------------
  // The node type of the [nodes.x] table the cursor is in, or null outside any node.
  function typeAtCursor() {
    const all = text.value.split("\n");
    const at = text.value.slice(0, text.selectionStart).split("\n").length - 1;
    let head = at;
    while (head >= 0 && !/^\s*\[/.test(all[head])) head--;
    if (head < 0 || !/^\s*\[\s*nodes\s*\./.test(all[head])) return null;
    for (let i = head + 1; i < all.length && !/^\s*\[/.test(all[i]); i++) {
      const m = all[i].match(/^\s*type\s*=\s*"([^"]*)"/);
      if (m) return m[1];
    }
    return null;
  }

  function limits(spec) {
    const parts = [];
    if (spec.default !== null && spec.default !== undefined && spec.default !== "" &&
        !(Array.isArray(spec.default) && !spec.default.length)) parts.push(JSON.stringify(spec.default));
    if (spec.min !== null || spec.max !== null) parts.push(`${spec.min ?? ""}…${spec.max ?? ""}`);
    if (spec.choices.length) parts.push(spec.choices.map((c) => JSON.stringify(c)).join(" | "));
    return parts.join(" · ");
  }

  function showHelp() {
    if (!state.schema) return;
    const type = typeAtCursor();
    if (type === state.helpType) return;
    state.helpType = type;
    const title = document.getElementById("node-help-title");
    const rows = help.querySelector("tbody");
    help.hidden = false;
    if (!type || !state.schema[type]) {
      title.textContent = fill(T.types, { types: Object.keys(state.schema).join(", ") });
      rows.replaceChildren();
      return;
    }
    title.textContent = fill(T.keysOf, { type });
    rows.replaceChildren(...Object.entries(state.schema[type]).map(([key, spec]) => {
      const row = el("tr");
      row.append(el("td", "mono", key), el("td", null, spec.kind),
        el("td", "mono", spec.required ? T.required : limits(spec)), el("td", null, spec.doc));
      return row;
    }));
  }

  async function loadSchema() {
    const reply = await api("GET", "/api/v1/flow-schema");
    if (reply.status === 200) state.schema = reply.data;
  }

  // --- prompts ------------------------------------------------------------------------------------
  async function loadRecordings() {
    const reply = await api("GET", "/api/v1/prompts");
    state.recordings = new Map(reply.status === 200 ? reply.data.prompts.map((p) => [p.name, p]) : []);
    drawAllPrompts();
  }

  function playButton(name, enabled) {
    const play = el("button", "btn btn-ghost btn-sm play", "▶ " + T.play);
    play.type = "button";
    play.disabled = !enabled;
    play.addEventListener("click", () => {
      player.src = `/api/v1/prompts/${encodeURIComponent(name)}`;
      player.play().catch(() => {});
    });
    return play;
  }

  function recordingInfo(rec) {
    return `${rec.own ? T.own : T.stock}${rec.seconds !== null ? ` · ${rec.seconds} s` : ""}`;
  }

  function drawAllPrompts() {
    document.getElementById("all-prompts-count").textContent = String(state.recordings.size);
    document.getElementById("all-prompts").tBodies[0].replaceChildren(...[...state.recordings.values()].map((rec) => {
      const row = el("tr");
      row.dataset.prompt = rec.name;
      row.append(el("td", "mono", rec.name), el("td", null, recordingInfo(rec)),
        el("td", "actions-col", playButton(rec.name, true)));
      return row;
    }));
  }

  function drawPrompts(prompts) {
    if (!prompts.length) {
      promptRows.replaceChildren(el("tr", null, el("td", "muted", promptRows.dataset.empty)));
      promptRows.rows[0].cells[0].colSpan = 4;
      return;
    }
    promptRows.replaceChildren(...prompts.map((p) => {
      const row = el("tr");
      row.dataset.prompt = p.name;
      const rec = state.recordings.get(p.name);
      let info = "";
      if (!p.exists) info = el("span", "alarm-text", T.missing);
      else if (rec) info = recordingInfo(rec);
      row.append(el("td", "mono", p.name), el("td", "mono", p.nodes.join(", ")), el("td", null, info),
        el("td", "actions-col", playButton(p.name, p.exists)));
      return row;
    }));
  }

  upload.addEventListener("submit", async (event) => {
    event.preventDefault();
    uploadResult.className = "upload-result";
    uploadResult.textContent = T.checking;
    const reply = await api("POST", "/api/v1/prompts", new FormData(upload));
    if (reply.status !== 201) {
      uploadResult.className = "upload-result bad";
      uploadResult.textContent = reply.data.error;
      return;
    }
    const r = reply.data;
    let message = fill(T.uploaded, { seconds: r.seconds, level: r.active_dbm0, dbov: r.active_dbov });
    if (r.advice === "quiet") message += " " + T.quiet;
    if (r.advice === "loud") message += " " + T.loud;
    uploadResult.className = "upload-result good";
    uploadResult.textContent = message;
    upload.reset();
    await loadRecordings();
    check();
  });

  // --- saving ---------------------------------------------------------------------------------------
  saveBtn.addEventListener("click", async () => {
    saveBtn.disabled = true;
    const body = { text: text.value, version: state.version };
    const reply = await api("PUT", `/api/v1/flows/${encodeURIComponent(NAME)}`, body);
    if (reply.status === 200) {
      state.version = reply.data.version;
      state.saved = body.text;
      savedNote.textContent = reply.data.reloaded ? T.swapped : T.saved;
      showBanner(null);
      showReport(reply.data.report);
    } else if (reply.status === 409 && "version" in reply.data) {
      showBanner(T.stale);
    } else if (reply.status === 422) {
      showBanner(reply.data.error);
      showReport(reply.data.report);
    } else {
      showBanner(reply.data.error);
    }
    updateButtons();
  });

  revertBtn.addEventListener("click", () => {
    text.value = state.saved;
    drawGutter();
    scheduleCheck();
    updateButtons();
  });

  document.getElementById("flow-previous").addEventListener("click", async () => {
    const reply = await api("GET", `/api/v1/flows/${encodeURIComponent(NAME)}/previous`);
    if (reply.status !== 200) {
      savedNote.textContent = reply.status === 404 ? T.noPrevious : reply.data.error;
      return;
    }
    text.value = reply.data.text;
    text.dispatchEvent(new Event("input"));
    savedNote.textContent = T.previous;
  });

  text.addEventListener("input", () => { drawGutter(); scheduleCheck(); updateButtons(); showHelp(); });
  for (const kind of ["click", "keyup"]) text.addEventListener(kind, showHelp);
  text.addEventListener("scroll", () => { gutter.scrollTop = text.scrollTop; });
  document.addEventListener("keydown", (event) => {
    // Ctrl+S / Cmd+S saves here, as in any editor, instead of saving the web page.
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      if (!saveBtn.disabled) saveBtn.click();
    }
  });
  text.addEventListener("keydown", (event) => {
    // Tab indents (TOML allows it) instead of leaving the editor; Esc then Tab leaves it.
    if (event.key === "Tab" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      text.setRangeText("    ", text.selectionStart, text.selectionEnd, "end");
      text.dispatchEvent(new Event("input"));
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty()) event.preventDefault();
  });

  async function load() {
    const [reply] = await Promise.all([api("GET", `/api/v1/flows/${encodeURIComponent(NAME)}`), loadRecordings(),
      loadSchema()]);
    if (reply.status === 200) {
      state.version = reply.data.version;
      state.saved = reply.data.text;
      text.value = reply.data.text;
      if (reply.data.engine_error) showBanner(T.engine);
    } else if (reply.status === 404) {
      state.version = null;
      state.saved = "";
      text.value = STARTER;
      savedNote.textContent = T.new;
    } else {
      showBanner(reply.data.error);
      return;
    }
    drawGutter();
    showHelp();
    if (reply.status === 200 && reply.data.report) showReport(reply.data.report);
    else check();
  }

  load();
}());
