// The agent console: the agent's state and time in it, the screen pop of an offered call (before it is
// answered), the call controls and wrap-up code, the agent's figures today. Live changes come from the
// event stream (events.js); the page reads its snapshot from the API at start and after a reset, and
// every action names the call the page shows, so the engine refuses one a stale page sends.
"use strict";

(function () {
  const root = document.getElementById("console");
  if (!root || !root.dataset.agent) return;
  const { gettext: _, number, dateTime } = window.I18n;
  const { el, duration } = window.Live;
  const me = root.dataset.agent;
  const base = `/api/v1/agents/${encodeURIComponent(me)}`;
  const labels = JSON.parse(root.dataset.labels);
  const ticketStates = JSON.parse(root.dataset.ticketStates);
  const $ = (id) => document.getElementById(id);
  // The wrap-up codes: the site's (the page's options), or those of a queue that names its own
  // (site.toml; the engine refuses a code that is not the call's).
  const queueCodes = JSON.parse(root.dataset.queueCodes || "{}");
  const siteCodes = Array.from($("wrapup-code").options, (o) => [o.value, o.textContent]);
  function codesFor(queue) {
    const select = $("wrapup-code");
    if (select.dataset.queue === (queue || "")) return;
    select.dataset.queue = queue || "";
    select.replaceChildren(...(queueCodes[queue] || siteCodes).map(([code, label]) => {
      const option = el("option", null, label);
      option.value = code;
      return option;
    }));
  }
  const banner = $("engine-banner");
  const errorLine = $("my-error");
  const dash = "—";

  // The page's state: the agent as the engine last told it, and the call it shows.
  const agent = { state: null, reason: null, since: null, call: null, held: false, wrapupUntil: null };
  let pop = null;

  // --- showing -----------------------------------------------------------------------------------
  function say(message) {
    errorLine.textContent = message || "";
  }

  function showState() {
    const state = $("my-state");
    state.className = `st st-${agent.state || "idle"}`;
    state.textContent = labels[agent.state] || agent.state || dash;
    $("my-reason").textContent = agent.state === "not_ready" && agent.reason ? _(agent.reason) : "";
    $("call-state").textContent = agent.call ? (agent.held ? _("on hold") : labels[agent.state] || "") : _("no call");
    const loggedOut = agent.state === "logged_out";
    const onCall = agent.state === "talking" && Boolean(agent.call);
    // Ringing or talking, the engine takes no change of state (firmware/callcenter/acd.py BUSY).
    const busy = agent.state === "ringing" || agent.state === "talking";
    const enable = {
      login: loggedOut, logout: !loggedOut && !busy, ready: agent.state === "not_ready" || agent.state === "wrapup",
      not_ready: !loggedOut && agent.state !== "not_ready" && !busy,
      hold: onCall && !agent.held, resume: onCall && agent.held, hangup: onCall,
      transfer: onCall, consult: onCall, transfer_complete: onCall, transfer_cancel: onCall, conference: onCall,
      survey: onCall,
      record: onCall, pause_recording: onCall, resume_recording: onCall,
    };
    for (const button of root.querySelectorAll("button[data-action]")) {
      button.disabled = !enable[button.dataset.action];
    }
    $("pop-dial").disabled = !pop || !pop.number || busy || loggedOut;
    tick();
  }

  // Time in state and wrap-up time left, counted on the page between events.
  function tick() {
    const now = Date.now() / 1000;
    $("my-time").textContent = agent.since ? duration(now - agent.since) : dash;
    const left = $("my-wrapup-left");
    left.hidden = !(agent.state === "wrapup" && agent.wrapupUntil);
    if (!left.hidden) left.textContent = _("%(time)s of wrap-up left", { time: duration(agent.wrapupUntil - now) });
  }

  function link(href, text) {
    const a = el("a", null, text);
    a.href = href;
    return a;
  }

  function showPop(data, heading) {
    pop = data;
    const card = data.card;
    $("pop").hidden = false;
    $("pop-heading").textContent = heading;
    $("pop-number").textContent = data.number || _("unknown number");
    $("pop-name").replaceChildren(card ? el("strong", null, card.name || dash) : el("span", "muted", _("No customer card for this number")));
    const vip = card ? card.vip : data.vip;
    $("pop-vip").replaceChildren(vip ? el("span", "st st-ringing", _("VIP %(level)s", { level: vip })) : dash);
    $("pop-numbers").textContent = card && card.numbers.length ? card.numbers.join(", ") : dash;
    $("pop-dedicated").textContent = (card && card.agent_id) || dash;
    $("pop-company").textContent = (card && card.company) || dash;
    $("pop-notes").textContent = (card && card.notes) || dash;
    $("pop-queue").textContent = data.queue || dash;
    codesFor(data.queue);
    $("pop-path").textContent = (data.path || []).join(" → ") || dash;
    $("pop-digits").textContent = data.digits || dash;
    const tickets = $("pop-tickets");
    tickets.replaceChildren(...(data.tickets || []).map((t) => {
      const li = el("li");
      li.append(link(`/tickets/${encodeURIComponent(t.id)}`, t.title || t.id), " ",
        el("span", `st st-t-${t.state}`, ticketStates[t.state] || t.state), " ", el("span", "muted", t.category || ""));
      if (t.due) li.append(" ", el("span", "muted", _("due %(time)s", { time: dateTime(new Date(t.due * 1000)) })));
      return li;
    }));
    if (!tickets.children.length) tickets.append(el("li", "muted", _("No open tickets")));
    const rows = (data.history || []).map((c) => {
      const tr = el("tr");
      const when = el("td");
      when.append(link(`/calls/${encodeURIComponent(c.id)}`, dateTime(new Date(c.arrived_at * 1000))));
      const rec = el("td");
      if (c.recording_id) rec.append(link(`/recordings/${encodeURIComponent(c.recording_id)}`, _("Play")));
      else rec.textContent = dash;
      tr.append(when, el("td", null, c.queue || dash), el("td", null, c.agent_id || dash),
        el("td", null, c.disposition || dash), el("td", null, c.wrapup_code || dash), rec);
      return tr;
    });
    const history = $("pop-history");
    history.replaceChildren(...rows);
    if (!rows.length) {
      const tr = el("tr", "empty");
      const td = el("td", null, _("No earlier calls"));
      td.colSpan = 6;
      tr.append(td);
      history.append(tr);
    }
    $("pop-new-ticket").href = data.call ? `/tickets/new?call_id=${encodeURIComponent(data.call)}` : "/tickets/new";
    $("pop-card").hidden = !card;
    if (card) $("pop-card").href = `/customers/${encodeURIComponent(card.id)}`;
    $("pop-dial").hidden = !data.number;
    showState();
  }

  function hidePop() {
    pop = null;
    $("pop").hidden = true;
  }

  // --- snapshot, figures and targets ---------------------------------------------------------------
  async function load() {
    const answer = await window.Api.call("GET", `${base}/pop`, undefined, root.dataset.down);
    if (!answer.ok) {
      banner.textContent = answer.error;
      banner.hidden = false;
      return;
    }
    banner.hidden = true;
    const data = answer.data;
    const mine = await window.Api.call("GET", "/api/v1/me/agent", undefined, root.dataset.down);
    if (mine.ok) {
      const a = mine.data.agent;
      Object.assign(agent, { reason: a.reason, since: a.since, held: Boolean(a.held), wrapupUntil: a.wrapup_until });
      $("my-station").textContent = a.station || a.phone || dash;
    }
    Object.assign(agent, { state: data.state, call: data.call });
    if (data.call) showPop(data, data.state === "ringing" ? _("Incoming call") : _("On a call with"));
    else if (agent.state !== "wrapup") hidePop();
    showState();
    figures();
  }

  async function figures() {
    const answer = await window.Api.call("GET", `${base}/today`, undefined, root.dataset.down);
    if (!answer.ok) return;
    $("today-calls").textContent = number(answer.data.calls);
    $("today-aht").textContent = answer.data.aht === null ? dash : duration(answer.data.aht);
    $("today-not-ready").textContent = duration(answer.data.not_ready);
  }

  // Read when the agent goes to pick a target: who is ready changes with every call.
  let surveys = [];
  async function loadTargets() {
    const answer = await window.Api.call("GET", `${base}/targets`, undefined, root.dataset.down);
    if (!answer.ok) return;
    surveys = answer.data.surveys || [];
    const select = $("target");
    const chosen = select.value;
    const groups = [[_("Queues"), answer.data.queues.map((q) => [`queue:${q.name}`,
      _("%(queue)s (%(n)s waiting)", { queue: q.name, n: q.waiting })])],
    [_("Ready agents"), answer.data.agents.map((a) => [`agent:${a.id}`, a.name ? `${a.name} (${a.id})` : a.id])],
    [_("Post-call surveys"), surveys.map((s) => [`survey:${s.name}`, s.name])]];
    select.replaceChildren(...groups.filter(([, items]) => items.length).map(([name, items]) => {
      const group = el("optgroup");
      group.label = name;
      for (const [value, text] of items) {
        const option = el("option", null, text);
        option.value = value;
        group.append(option);
      }
      return group;
    }));
    if (chosen) select.value = chosen;
  }

  // --- acting ------------------------------------------------------------------------------------
  function transferTarget() {
    const typed = $("target-number").value.replace(/[\s-]/g, "");
    return typed || $("target").value;
  }

  // Page controls -> the API's actions and arguments (consult is a transfer that is not blind).
  const ACTIONS = {
    transfer: () => ["transfer", { to: transferTarget(), blind: true }],
    transfer_to: () => ["transfer", {}],
    consult: () => ["transfer", { to: transferTarget(), blind: false }],
    conference: () => ["conference", { to: transferTarget() }],
    pause_recording: () => ["pause_recording", { paused: true }],
    resume_recording: () => ["pause_recording", { paused: false }],
    not_ready: () => ["not_ready", { reason: $("my-reason-choice").value }],
  };

  // "To survey": the survey of the call's queue, else the box's only one (a blind transfer to it).
  async function surveyTarget() {
    await loadTargets();
    const own = surveys.find((s) => pop && s.queues.includes(pop.queue));
    const survey = own || (surveys.length === 1 ? surveys[0] : null);
    return survey ? `survey:${survey.name}` : "";
  }

  async function act(control, extra) {
    say("");
    if (control === "survey") {
      const to = await surveyTarget();
      if (!to) {
        say(_("No post-call survey for this call's queue: choose one in the list (g)."));
        $("target").focus();
        return false;
      }
      return act("transfer_to", { to, blind: true });
    }
    const [action, args] = ACTIONS[control] ? ACTIONS[control]() : [control, {}];
    if ((args.to !== undefined) && !args.to) {
      say(_("Choose where to send the call first (g), or type a number."));
      $("target").focus();
      return false;
    }
    // The call the page shows (the server passes it on for the actions on a call): the engine refuses the
    // action if that call is no longer the agent's. A wrap-up code goes to the call the pop still shows.
    const body = Object.assign({}, args, extra);
    const shown = agent.call || (action === "wrapup" && pop ? pop.call : null);
    if (shown) body.call = shown;
    const answer = await window.Api.call("POST", `${base}/${action}`, body, root.dataset.down);
    if (!answer.ok) {
      say(answer.error);
      // A refusal may mean the page is behind the engine (a call ended meanwhile): read it again.
      load();
      return false;
    }
    if (!window.Events) load();
    return true;
  }

  for (const button of root.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  for (const field of [$("target"), $("target-number")]) {
    field.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.isComposing) {
        ev.preventDefault();
        act("transfer");
      }
    });
  }
  $("target").addEventListener("focus", loadTargets);
  $("dial-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (await act("dial", { number: $("dial-number").value })) $("dial-number").value = "";
  });
  $("pop-dial").addEventListener("click", () => act("dial", { number: pop.number }));
  // A select submits no form on Enter by itself: the code is saved as a typed field's would be.
  $("wrapup-code").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      $("wrapup-form").requestSubmit();
    }
  });
  $("wrapup-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const code = $("wrapup-code");
    if (await act("wrapup", { code: code.value })) {
      $("wrapup-saved").textContent = _("Code %(code)s saved.", { code: code.selectedOptions[0].textContent });
    }
  });

  const help = $("keys-help");
  const keys = window.Shortcuts.bind({
    root, help, helpList: $("keys-help-list"),
    unavailable: (control) => say(_("%(control)s is not possible now.", { control: window.Shortcuts.label(control) })),
  });
  $("keys-help-open").addEventListener("click", () => {
    keys.fillHelp();
    help.showModal();
  });

  // --- live events -------------------------------------------------------------------------------
  function onAgent(data) {
    const was = agent.state;
    Object.assign(agent, { state: data.state, reason: data.reason, since: data.since, call: data.call,
      held: Boolean(data.held), wrapupUntil: data.wrapup_until });
    if (data.state === "wrapup" && was !== "wrapup") {
      $("wrapup-saved").textContent = "";
      if (pop) $("pop-heading").textContent = _("Last call");
      $("wrapup-code").focus();
      figures();
    }
    if ((data.state === "ready" || data.state === "not_ready" || data.state === "logged_out") && !data.call) {
      hidePop();
    }
    if (data.state === "talking" && pop && pop.call === data.call) $("pop-heading").textContent = _("On a call with");
    showState();
  }

  function onOffer(data) {
    agent.call = data.call;
    showPop(data, _("Incoming call"));
    $("pop").focus();
  }

  // A preview campaign's contact offered to this agent (docs/architecture.md §23): the contact's own fields,
  // the customer card of the number in the pop, and Dial or Skip, each the engine's command for the contact.
  let preview = null;

  async function onPreview(data) {
    preview = data;
    $("preview").hidden = false;
    $("preview-number").textContent = data.number || "";
    $("preview-name").textContent = data.name || "";
    const facts = $("preview-data");
    facts.replaceChildren();
    for (const [key, value] of Object.entries(data.data || {})) facts.append(el("dt", null, key), el("dd", null, value));
    $("preview-dial").focus();
    const found = await window.Api.call("GET", `/api/v1/customers/lookup?number=${encodeURIComponent(data.number)}`);
    const card = found.ok ? found.data.customer : null;
    if (preview !== data) return;      // answered meanwhile
    showPop({ number: data.number, card: card && Object.assign({}, card, {
      numbers: card.numbers.map((n) => n.display || n.number || n) }) }, _("Campaign call to make"));
  }

  async function previewAnswer(action) {
    if (!preview) return;
    const contact = preview.contact;
    if (await act(action, { contact })) {
      preview = null;
      $("preview").hidden = true;
      if (action === "preview_skip") hidePop();
    }
  }
  $("preview-dial").addEventListener("click", () => previewAnswer("preview_dial"));
  $("preview-skip").addEventListener("click", () => previewAnswer("preview_skip"));

  function onCall(data) {
    if (data.call !== agent.call) return;
    agent.held = data.state === "held";
    showState();
  }

  if (window.Events) {
    window.Events.subscribe({
      onEvent(type, data) {
        if (type === "agent" && data.agent === me) onAgent(data);
        else if (type === "offer" && data.agent === me) onOffer(data);
        else if (type === "preview" && data.agent === me) onPreview(data);
        else if (type === "call") onCall(data);
      },
      onReset: load,
      onState(up) {
        $("live-state").textContent = up ? _("Live") : _("Reconnecting…");
        root.classList.toggle("stale", !up);
      },
    });
  } else {
    load();
  }
  setInterval(tick, 1000);
})();
