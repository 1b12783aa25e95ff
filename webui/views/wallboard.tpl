% rebase('layout', main_class=main_class)
% # The keys of the supervisor's actions: letters without modifiers, so none is the browser's own, and
% # wallboard.js ignores them while a field has the focus (docs/architecture.md §9).
% actions = [("monitor", "m", _("Monitor")), ("whisper", "w", _("Whisper")), ("barge", "b", _("Barge in")),
%            ("intercept", "i", _("Intercept")), ("hangup", "h", _("Hang up")), ("force_ready", "r", _("Ready")),
%            ("force_not_ready", "n", _("Not ready")), ("force_logout", "l", _("Log out"))]
<div id="wallboard" class="wallboard{{' is-tv' if tv else ''}}" data-labels="{{labels_json}}"
     data-thresholds="{{thresholds_json}}" data-supervisor="{{own or ''}}" data-tv="{{'1' if tv else '0'}}">
  <div class="page-head wallboard-head">
    <h1>{{_("Wallboard")}}</h1>
    <div class="wallboard-tools">
      % if may_choose:
      <label class="inline-field">{{_("Act as supervisor")}}
        <select id="act-as">
          % for sup_id, name in sorted(supervisors.items()):
          <option value="{{sup_id}}" {{!'selected' if sup_id == own else ''}}>{{sup_id}}{{(" · " + name) if name and name != sup_id else ""}}</option>
          % end
        </select>
      </label>
      % elif own:
      <span class="muted" id="acting-as">{{_("You act as supervisor %(id)s") % {"id": own} }}</span>
      % end
      <span id="listening" class="listening" role="status" aria-live="polite"></span>
      <button class="btn btn-ghost" type="button" id="stop-listening" hidden>{{_("Stop listening")}} <kbd>s</kbd></button>
      <button class="btn btn-ghost" type="button" id="fullscreen">{{_("Full screen")}} <kbd>f</kbd></button>
      <button class="btn btn-ghost" type="button" id="keys-open" aria-haspopup="dialog">{{_("Keys")}} <kbd>?</kbd></button>
    </div>
  </div>
  <div id="engine-banner" class="banner" role="alert" {{!'' if problem else 'hidden'}}>{{problem or ''}}</div>
  <div class="boxline" id="boxline" aria-live="polite"></div>
  % if not own and not may_choose:
  <p class="banner" id="no-link">{{_("Your account is not linked to a supervisor id, so you can watch but not act. Ask an administrator to link it.")}}</p>
  % elif may_choose and not supervisors:
  <p class="banner" id="no-link">{{_("No supervisor is configured on this box: add one under Configuration, Supervisors, to listen in from its station.")}}</p>
  % end
  <noscript><p class="banner">{{_("The wallboard needs JavaScript to show live data.")}}</p></noscript>

  <section class="tiles wb-tiles" aria-label="{{_("Summary")}}">
    <div class="tile" id="wb-t-waiting"><div class="tile-label">{{_("Calls waiting")}}</div><div class="tile-value">–</div></div>
    <div class="tile" id="wb-t-longest"><div class="tile-label">{{_("Longest wait")}}</div><div class="tile-value">–</div></div>
    <div class="tile" id="wb-t-service"><div class="tile-label">{{_("Service level")}}</div><div class="tile-value">–</div></div>
    <div class="tile" id="wb-t-ready"><div class="tile-label">{{_("Agents ready")}}</div><div class="tile-value">–</div></div>
  </section>

  <section class="panel">
    <h2>{{_("Queues")}} <span class="muted small">{{_("service level: answered within %(seconds)s s, today") % {"seconds": fmt.number(20)} }}</span></h2>
    <div class="table-wrap">
      <table class="table wb-table" id="wb-queues">
        <thead><tr><th>{{_("Queue")}}</th><th class="num">{{pgettext("count", "Waiting")}}</th>
          <th class="num">{{_("Longest wait")}}</th><th class="num">{{_("Service level")}}</th>
          <th class="num">{{_("Offered")}}</th><th class="num">{{pgettext("count", "Answered")}}</th>
          <th class="num">{{pgettext("count", "Abandoned")}}</th><th class="num" title="{{_("average speed of answer")}}">{{_("ASA")}}</th>
          <th class="num" title="{{_("ready / logged in")}}">{{_("Ready")}}</th></tr></thead>
        <tbody data-empty="{{_("No queues configured.")}}"></tbody>
      </table>
    </div>
  </section>

  <section class="panel">
    <h2>{{_("Agents")}} <span class="count" id="wb-agent-count"></span> <span class="muted small" id="wb-agent-states"></span></h2>
    <p class="hint wb-hint">{{_("Choose an agent's row (arrow keys or j / k), then press a key:")}}
      % for action, key, label in actions:
      <span class="nowrap"><kbd>{{key}}</kbd> {{label}}</span>
      % end
    </p>
    <div class="table-wrap">
      <table class="table wb-table" id="wb-agents">
        <thead><tr><th>{{_("Agent")}}</th><th>{{_("State")}}</th><th class="num">{{_("In state")}}</th><th>{{_("Call")}}</th>
          <th class="actions-col wb-actions-col">{{_("Actions")}}</th></tr></thead>
        <tbody data-empty="{{_("No agents configured.")}}"></tbody>
      </table>
    </div>
  </section>

  <template id="wb-actions">
    <div class="actions wb-actions">
      % for action, key, label in actions:
      % if action == "force_not_ready":
      <select class="reason" aria-label="{{_("Not-ready reason")}}">
        % for reason in reasons:
        <option value="{{reason}}">{{_(reason)}}</option>
        % end
      </select>
      % end
      <button class="btn btn-sm" type="button" data-action="{{action}}" data-key="{{key}}"
              aria-keyshortcuts="{{key}}">{{label}} <kbd>{{key}}</kbd></button>
      % end
    </div>
    <p class="action-error" role="alert"></p>
  </template>

  <dialog id="keys-help" class="keys-help" aria-labelledby="keys-title">
    <h2 id="keys-title">{{_("Keys of the wallboard")}}</h2>
    <table class="table">
      <tbody>
        <tr><td><kbd>↑</kbd> <kbd>↓</kbd> <kbd>j</kbd> <kbd>k</kbd></td><td>{{_("Previous or next agent")}}</td></tr>
        % for action, key, label in actions:
        <tr><td><kbd>{{key}}</kbd></td><td>{{label}}{{_(": with the reason chosen in the row") if action == "force_not_ready" else ""}}</td></tr>
        % end
        <tr><td><kbd>s</kbd></td><td>{{_("Stop listening")}}</td></tr>
        <tr><td><kbd>f</kbd></td><td>{{_("Full screen on or off")}}</td></tr>
        <tr><td><kbd>?</kbd></td><td>{{_("This list")}}</td></tr>
        <tr><td><kbd>Esc</kbd></td><td>{{_("Close this list, leave full screen")}}</td></tr>
      </tbody>
    </table>
    <p class="hint">{{_("Keys do nothing while you type in a field. Monitor, whisper and barge ring your own phone first: pick it up to join the call.")}}</p>
    <form method="dialog"><button class="btn btn-primary" type="submit" id="keys-close">{{_("Close")}}</button></form>
  </dialog>
</div>
