// The tools page: the load test (start, live figures, stop) and the log tail, through /api/v1.
"use strict";

(function () {
  const root = document.getElementById("tools-page");
  if (!root) return;
  const msg = root.dataset;
  const fill = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));
  const when = (t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false });

  const api = (method, url, body) => window.Api.call(method, url, body, msg.msgUnreachable);

  function showError(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

  // --- load test --------------------------------------------------------------------------------
  const form = document.getElementById("loadtest-form");
  const startButton = document.getElementById("loadtest-start");
  const stopButton = document.getElementById("loadtest-stop");
  const stateLine = document.getElementById("loadtest-state");
  const testError = document.getElementById("loadtest-error");

  function renderTest(s) {
    const run = s.run;
    const limits = s.limits;
    form.elements.callers.max = limits.callers;
    form.elements.agents.max = limits.agents;
    document.getElementById("callers-limit").textContent = `≤ ${limits.callers}`;
    startButton.hidden = s.state !== "idle";
    stopButton.hidden = s.state !== "running";
    if (s.state === "running") {
      stateLine.textContent = fill(msg.msgRunning, { callers: run.callers, agents: run.agents, until: when(run.ends_at) });
    } else if (s.state === "stopping" || s.state === "preparing") {
      stateLine.textContent = msg.msgStopping;
    } else if (run && run.ended_at) {
      stateLine.textContent = fill(msg.msgEnded, { at: when(run.ended_at), reason: run.stop_reason });
    } else {
      stateLine.textContent = msg.msgIdle;
    }
    const figures = run && run.calls ? { ...run.calls, ...run.ticks } : {};
    for (const node of document.querySelectorAll("#loadtest-figures [data-fig]")) {
      const v = figures[node.dataset.fig];
      node.textContent = v === undefined || v === null ? "—" : String(v);
    }
  }

  async function pollTest() {
    const reply = await api("GET", "/api/v1/loadtest");
    if (reply.ok) {
      renderTest(reply.data);
      showError(testError, "");
    } else {
      showError(testError, reply.error);
    }
    setTimeout(pollTest, document.hidden ? 5000 : 1000);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    const body = { callers: Number(f.callers.value), duration: Number(f.duration.value), keys: f.keys.value };
    if (f.agents.value !== "") body.agents = Number(f.agents.value);
    if (f.talk.value !== "") body.talk = Number(f.talk.value);
    startButton.disabled = true;
    const reply = await api("POST", "/api/v1/loadtest", body);
    startButton.disabled = false;
    showError(testError, reply.ok ? "" : reply.error);
    if (reply.ok) renderTest(reply.data);
  });

  stopButton.addEventListener("click", async () => {
    if (!window.confirm(msg.msgConfirmStop)) return;
    const reply = await api("DELETE", "/api/v1/loadtest");
    showError(testError, reply.ok ? "" : reply.error);
    if (reply.ok) renderTest(reply.data);
  });

  pollTest();

  // --- log tail ---------------------------------------------------------------------------------
  const logForm = document.getElementById("log-form");
  const logBody = document.querySelector("#log-entries tbody");
  const logError = document.getElementById("log-error");
  let logTimer = null;

  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  function emptyRow(text) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = cell(text);
    td.colSpan = 4;
    tr.append(td);
    return tr;
  }

  async function pollLog() {
    clearTimeout(logTimer);
    const f = logForm.elements;
    const query = new URLSearchParams({ lines: f.lines.value || "200", level: f.level.value });
    const reply = await api("GET", `/api/v1/logs/${encodeURIComponent(f.process.value)}?${query}`);
    if (reply.ok) {
      const d = reply.data;
      showError(logError, "");
      document.getElementById("log-file").textContent = d.exists ? `${d.file} · ${Math.ceil(d.size / 1024)} KiB` : "";
      const rows = d.entries.slice().reverse().map((e) => {
        const tr = document.createElement("tr");
        tr.className = `log-${e.level.toLowerCase()}`;
        tr.append(cell(e.at, "nowrap mono"), cell(e.level), cell(e.logger, "mono"), cell(e.message, "log-message"));
        return tr;
      });
      logBody.replaceChildren(...(rows.length ? rows : [emptyRow(d.exists ? msg.msgNoEntries : msg.msgNoLog)]));
    } else {
      showError(logError, reply.error);
    }
    if (f.follow.checked) logTimer = setTimeout(pollLog, document.hidden ? 10000 : 2000);
  }

  logForm.addEventListener("change", pollLog);
  logForm.addEventListener("submit", (event) => { event.preventDefault(); pollLog(); });
  pollLog();
})();
