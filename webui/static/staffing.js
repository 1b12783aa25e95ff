// The staffing page (webui/staffing.py): the chart of agents needed per half hour (GET /api/v1/staffing,
// drawn by the vendored Chart.js), and the what-if answered as the figures are typed, from
// GET /api/v1/staffing/what-if; without this script the forms answer by themselves.
"use strict";

(function () {
  const { gettext: _, format, number, duration } = window.I18n;
  const { el } = window.Live;
  const WHAT_IF_FIELDS = ["calls_per_hour", "aht_s", "service_level", "answer_s", "shrinkage"];
  const DEBOUNCE_MS = 250;   // one request once the typing pauses, not one per key

  const form = document.getElementById("what-if-form");
  const answer = document.getElementById("what-if-answer");
  const pct = (value) => (value === null || value === undefined ? "—" : number(Math.round(value * 1000) / 10) + "%");

  function problems(error, found) {
    const box = el("div", "form-error");
    box.setAttribute("role", "alert");
    box.append(el("strong", null, _("Fix these to see the answer:")));
    const list = el("ul");
    for (const message of Object.values(found || { error })) list.append(el("li", null, message));
    box.append(list);
    return box;
  }

  function table(data) {
    const wrap = el("div", "table-wrap");
    const t = el("table", "table");
    t.id = "what-if-table";
    const head = el("tr");
    for (const label of [_("Agents"), _("Scheduled"), _("Waiting at all"), _("Service level"), _("ASA"), _("Occupancy")]) {
      head.append(el("th", "num", label));
    }
    const thead = el("thead");
    thead.append(head);
    t.append(thead);
    const body = el("tbody");
    for (const row of data.table) {
      const tr = el("tr", row.agents === data.answer.agents ? "chosen" : "");
      for (const text of [number(row.agents), number(row.scheduled), pct(row.p_wait), pct(row.service_level),
        duration(row.asa_s), pct(row.occupancy)]) {
        tr.append(el("td", "num", text));
      }
      body.append(tr);
    }
    t.append(body);
    wrap.append(t);
    return wrap;
  }

  function show(data) {
    const a = data.answer;
    const summary = el("p", "staffing-summary", format(
      _("%(agents)s agents answering (%(scheduled)s scheduled) give %(sl)s of calls answered within %(t)s s, ASA %(asa)s, occupancy %(occ)s."),
      { agents: number(a.agents), scheduled: number(a.scheduled), sl: pct(a.service_level),
        t: number(data.targets.answer_s), asa: duration(a.asa_s), occ: pct(a.occupancy) }));
    answer.replaceChildren(summary);
    if (data.table.length) answer.append(table(data));
  }

  let timer = null;
  let asked = 0;
  async function ask() {
    if (!form.checkValidity()) return;   // the browser marks the field; the server would only repeat it
    const params = new URLSearchParams();
    for (const name of WHAT_IF_FIELDS) params.set(name, form.elements[name].value);
    const mine = ++asked;
    const reply = await window.Api.call("GET", "/api/v1/staffing/what-if?" + params, undefined,
      _("The box did not answer."));
    if (mine !== asked) return;          // a later question's answer is the one to show
    if (reply.ok) show(reply.data);
    else if (reply.error) answer.replaceChildren(problems(reply.error, reply.data && reply.data.problems));
  }

  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, DEBOUNCE_MS);
  });

  // --- the chart: agents and people scheduled as bars, offered calls as a line on their own axis -------
  const canvas = document.getElementById("staffing-chart");
  async function chart() {
    const reply = await window.Api.call("GET", canvas.dataset.api, undefined, _("The box did not answer."));
    if (!reply.ok) {
      canvas.replaceWith(el("p", "form-error", _("The charts could not be drawn: %(error)s", { error: reply.error })));
      return;
    }
    const rows = reply.data.intervals;
    const busy = rows.map((r, i) => (r.calls ? i : -1)).filter((i) => i >= 0);
    const shown = rows.slice(busy[0], busy[busy.length - 1] + 1);   // the day from its first call to its last
    const series = (label, key, colour, extra) => Object.assign(
      { label, data: shown.map((r) => r[key]), backgroundColor: colour, borderColor: colour }, extra);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: shown.map((r) => r.start),
        datasets: [
          series(_("Agents"), "agents", "#1f6f8b", { yAxisID: "agents" }),
          series(_("Scheduled"), "scheduled", "#9cc3d5", { yAxisID: "agents" }),
          series(_("Offered calls"), "calls", "#e07a1f", { type: "line", yAxisID: "calls", tension: 0.2 }),
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { title: { display: true, text: _("Agents needed and calls per half hour") } },
        scales: {
          agents: { position: "left", beginAtZero: true, ticks: { precision: 0, callback: (v) => number(v) },
            title: { display: true, text: _("Agents") } },
          calls: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
            ticks: { callback: (v) => number(v) }, title: { display: true, text: _("Offered calls") } },
        },
      },
    });
  }
  if (canvas && window.Chart) chart();
})();
