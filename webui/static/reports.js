// The reports page's charts: the same figures as the tables, from GET /api/v1/reports/<name> (the page's
// data-api), drawn by the vendored Chart.js with the labels and numbers in the page's language.
"use strict";

(function () {
  const root = document.getElementById("report");
  if (!root || !window.Chart) return;
  const { gettext: _, number } = window.I18n;
  const colours = ["#1f6f8b", "#e07a1f", "#c0392b", "#7a5195", "#2e8b57", "#8c8c8c", "#d4a017", "#4a90d9"];
  const charts = [];

  // A value on an axis or in a tooltip, as the table shows it: percents from fractions, h:mm:ss durations.
  function formatter(kind) {
    if (kind === "percent") return (v) => number(Math.round(v * 1000) / 10) + "%";
    if (kind === "duration") {
      return (v) => {
        const s = Math.round(v);
        const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
        return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(r).padStart(2, "0");
      };
    }
    return (v) => number(Math.round(v * 100) / 100);
  }

  function draw(canvas, table, spec) {
    const index = (key) => table.columns.findIndex((c) => c.key === key);
    const cat = index(spec.category);
    const labels = table.rows.map((row) => (row[cat] === null ? "—" : String(row[cat]).replace("T", " ")));
    const kind = table.columns[index(spec.values[0])].kind;
    const show = formatter(kind);
    const datasets = spec.values.map((key, i) => {
      const col = table.columns[index(key)];
      const data = table.rows.map((row) => row[index(key)]);
      const colour = colours[i % colours.length];
      return spec.kind === "pie"
        ? { label: col.label, data, backgroundColor: labels.map((_l, j) => colours[j % colours.length]) }
        : { label: col.label, data, backgroundColor: colour, borderColor: colour, tension: 0.2, spanGaps: true };
    });
    const options = {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: {
        title: { display: true, text: spec.title },
        tooltip: { callbacks: { label: (ctx) => ctx.dataset.label + ": " + show(ctx.parsed.y ?? ctx.parsed) } },
      },
    };
    if (spec.kind !== "pie") {
      options.scales = { y: { beginAtZero: true, ticks: { callback: show } } };
      // Counts step by whole numbers: half a call is no tick a reader wants.
      if (kind === "int") options.scales.y.ticks.precision = 0;
      if (kind === "percent") options.scales.y.max = 1;
    }
    charts.push(new window.Chart(canvas, { type: spec.kind, data: { labels, datasets }, options }));
  }

  async function load() {
    const answer = await window.Api.call("GET", root.dataset.api, undefined, _("The box did not answer."));
    if (!answer.ok) {
      const p = document.createElement("p");
      p.className = "form-error";
      p.setAttribute("role", "alert");
      p.textContent = _("The charts could not be drawn: %(error)s", { error: answer.error });
      root.prepend(p);
      return;
    }
    const tables = new Map(answer.data.tables.map((t) => [t.name, t]));
    for (const canvas of root.querySelectorAll("canvas[data-chart]")) {
      const table = tables.get(canvas.dataset.table);
      const spec = table && table.charts[Number(canvas.dataset.chart)];
      if (spec && table.rows.length) draw(canvas, table, spec);
    }
    root.dataset.drawn = String(charts.length);
  }

  load();
})();
