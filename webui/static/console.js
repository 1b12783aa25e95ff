// An agent's own console: keeps their state current and sends their own ready, not-ready, log-in and
// log-out through /api/v1/me/<action> (the server acts on the signed-in user's linked agent only).
"use strict";

(function () {
  const root = document.getElementById("console");
  if (!root || !root.dataset.agent) return;
  const POLL_MS = 2000;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const labels = JSON.parse(root.dataset.labels);
  const banner = document.getElementById("engine-banner");
  const errorLine = document.getElementById("my-error");
  const dash = "—";

  const timeOfDay = (epoch) => new Date(epoch * 1000).toLocaleTimeString([], { hour12: false });

  function show(agent) {
    const state = document.getElementById("my-state");
    state.className = `st st-${agent.state}`;
    state.textContent = labels[agent.state] || agent.state;
    document.getElementById("my-reason").textContent = agent.reason || "";
    document.getElementById("my-since").textContent = agent.since ? timeOfDay(agent.since) : dash;
    document.getElementById("my-station").textContent = agent.station || dash;
    document.getElementById("my-queues").textContent = (agent.queues || []).join(", ") || dash;
    document.getElementById("my-call").textContent = agent.number || dash;
    document.getElementById("my-calls").textContent = agent.calls ?? dash;
    for (const button of root.querySelectorAll("button[data-action]")) {
      const action = button.dataset.action;
      const loggedOut = agent.state === "logged_out";
      button.disabled = action === "login" ? !loggedOut : loggedOut
        || (action === "ready" && agent.state === "ready")
        || (action === "not_ready" && agent.state === "not_ready");
    }
  }

  async function poll() {
    try {
      const res = await fetch("/api/v1/me/agent", {
        credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
      });
      if (res.status === 401) {
        window.location.assign("/login?next=/");
        return;
      }
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        show(body.agent);
        banner.hidden = true;
      } else {
        banner.textContent = body.error || root.dataset.down;
        banner.hidden = false;
      }
    } catch (err) {
      banner.textContent = root.dataset.down;
      banner.hidden = false;
    }
  }

  async function act(action) {
    errorLine.textContent = "";
    const body = action === "not_ready" ? { reason: document.getElementById("my-reason-choice").value } : {};
    const res = await fetch(`/api/v1/me/${action}`, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
    }).catch(() => null);
    if (!res) {
      errorLine.textContent = root.dataset.down;
      return;
    }
    if (!res.ok) {
      const answer = await res.json().catch(() => ({}));
      errorLine.textContent = answer.error || String(res.status);
    }
    poll();
  }

  for (const button of root.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  poll();
  setInterval(poll, POLL_MS);
})();
