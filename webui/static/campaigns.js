// The campaigns list and a campaign's page kept current from the live `campaign` events
// (docs/architecture.md §15, §24): a campaign's state and its contacts counted by state.
"use strict";

(function () {
  const table = document.querySelector("[data-states]");
  const states = table ? JSON.parse(table.dataset.states) : {};

  // The event's counts: by contact state, either as they are or under `states`.
  function byState(counts) {
    return (counts && (counts.states || counts)) || {};
  }

  function show(node, field, value) {
    const cell = node.querySelector(`[data-field="${field}"]`);
    if (cell) cell.textContent = String(value);
  }

  function update(data) {
    document.querySelectorAll(`[data-campaign="${CSS.escape(String(data.campaign))}"]`).forEach((node) => {
      if (data.state) show(node, "state", states[data.state] || data.state);
      const counts = byState(data.counts);
      if (!data.counts) return;
      const total = Object.entries(counts).filter(([s]) => s !== "cancelled").reduce((n, [, v]) => n + v, 0);
      show(node, "total", total);
      show(node, "done", (counts.done || 0) + (counts.failed || 0));
      Object.entries(counts).forEach(([s, n]) => show(node, `count-${s}`, n));
      show(node, "pending", counts.pending || 0);
    });
  }

  window.Events.subscribe({
    onEvent(type, data) {
      if (type === "campaign") update(data);
    },
  });
})();
