% rebase('layout', main_class='page-wide')
%# The agent console (webui/console.py, static/console.js): state, the screen pop, call controls, wrap-up,
%# own figures and the knowledge base. Every control names its shortcut (data-key, shown as <kbd>);
%# static/console_keys.js binds them and lists them in the help overlay (?).
<div id="console" class="console" data-agent="{{agent_id or ''}}" data-labels="{{labels_json}}"
     data-ticket-states="{{ticket_states_json}}" data-queue-codes="{{queue_codes_json}}"
     data-down="{{_("The engine is not answering; this is the last state it gave.")}}">
  <div class="page-head">
    <h1>{{_("Your console")}}</h1>
    <p class="crumbs">{{_("Agent")}} <span class="mono" id="my-agent-id">{{agent_id or fmt.NONE}}</span>
    % if agent and agent.get('name'):
      · {{agent['name']}}
    % end
      · <button class="linkish" type="button" data-key="?" id="keys-help-open">{{_("Keyboard shortcuts")}} <kbd class="key" aria-hidden="true">?</kbd></button>
      · <span id="live-state" class="muted" role="status">{{_("Connecting…")}}</span>
    </p>
  </div>
  <div id="engine-banner" class="banner" role="alert" {{!'' if problem else 'hidden'}}>{{problem or ''}}</div>
  % if agent_id:
  <div class="console-grid">
    <div class="console-main">
      <section class="card console-state" aria-labelledby="state-title">
        <h2 id="state-title" class="visually-hidden">{{_("Your state")}}</h2>
        <div class="state-line">
          <span id="my-state" class="st st-{{agent['state'] if agent else 'idle'}}">{{labels.get(agent['state'], agent['state']) if agent else fmt.NONE}}</span>
          <span id="my-reason" class="muted">{{(agent or {}).get('reason') or ''}}</span>
          <span class="muted">{{_("for")}} <strong id="my-time" class="mono" data-since="{{(agent or {}).get('since') or ''}}">{{fmt.NONE}}</strong></span>
          <span id="my-wrapup-left" class="muted" hidden></span>
          <span class="muted">{{_("Station")}}: <span id="my-station">{{(agent or {}).get('station') or (agent or {}).get('phone') or fmt.NONE}}</span></span>
        </div>
        <div class="actions console-actions">
          <button class="btn btn-primary" type="button" data-action="login" data-key="i">{{_("Log in")}} <kbd class="key" aria-hidden="true">i</kbd></button>
          <button class="btn btn-ok" type="button" data-action="ready" data-key="r">{{_("Ready")}} <kbd class="key" aria-hidden="true">r</kbd></button>
          <label class="visually-hidden" for="my-reason-choice">{{_("Not-ready reason")}}</label>
          <select class="reason" id="my-reason-choice">
            % for reason in reasons:
            <option value="{{reason}}">{{_(reason)}}</option>
            % end
          </select>
          <button class="btn btn-warn" type="button" data-action="not_ready" data-key="n">{{_("Not ready")}} <kbd class="key" aria-hidden="true">n</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="logout" data-key="o">{{_("Log out")}} <kbd class="key" aria-hidden="true">o</kbd></button>
        </div>
      </section>

      <section id="pop" class="card pop" tabindex="-1" aria-live="assertive" aria-labelledby="pop-title" hidden>
        <h2 id="pop-title"><span id="pop-heading"></span> <span id="pop-number" class="mono"></span></h2>
        <div class="pop-grid">
          <dl class="facts">
            <dt>{{_("Customer")}}</dt><dd id="pop-name"></dd>
            <dt>{{_("VIP level")}}</dt><dd id="pop-vip"></dd>
            <dt>{{_("Numbers")}}</dt><dd id="pop-numbers"></dd>
            <dt>{{_("Dedicated agent")}}</dt><dd id="pop-dedicated"></dd>
            <dt>{{_("Company")}}</dt><dd id="pop-company"></dd>
            <dt>{{_("Notes")}}</dt><dd id="pop-notes" class="prewrap"></dd>
            <dt>{{_("Queue")}}</dt><dd id="pop-queue"></dd>
            <dt>{{_("IVR path")}}</dt><dd id="pop-path" class="mono"></dd>
            <dt>{{_("Keys pressed")}}</dt><dd id="pop-digits" class="mono"></dd>
          </dl>
          <div>
            <h3>{{_("Open tickets")}}</h3>
            <ul id="pop-tickets" class="plain"></ul>
            <h3>{{_("Last calls")}}</h3>
            <div class="table-wrap">
            <table class="table">
              <thead><tr><th>{{_("When")}}</th><th>{{_("Queue")}}</th><th>{{_("Agent")}}</th>
                <th>{{_("Outcome")}}</th><th>{{_("Code")}}</th><th>{{_("Recording")}}</th></tr></thead>
              <tbody id="pop-history"></tbody>
            </table>
            </div>
          </div>
        </div>
        <p class="actions">
          <a class="btn btn-ghost" id="pop-new-ticket" href="/tickets/new" target="_blank" rel="noopener" data-key="j">{{_("New ticket from this call")}} <kbd class="key" aria-hidden="true">j</kbd></a>
          <a class="btn btn-ghost" id="pop-card" href="/customers" target="_blank" rel="noopener" hidden>{{_("Open the customer card")}}</a>
          <button class="btn btn-ghost" type="button" id="pop-dial" data-key="b" hidden>{{_("Call the customer back")}} <kbd class="key" aria-hidden="true">b</kbd></button>
        </p>
      </section>

      <section id="preview" class="card" aria-labelledby="preview-title" hidden>
        <h2 id="preview-title">{{_("Campaign call to make")}} <span id="preview-number" class="mono"></span></h2>
        <p id="preview-name"></p>
        <dl class="facts" id="preview-data"></dl>
        <p class="actions">
          <button class="btn btn-primary" type="button" id="preview-dial" data-key="y">{{_("Dial")}} <kbd class="key" aria-hidden="true">y</kbd></button>
          <button class="btn btn-ghost" type="button" id="preview-skip" data-key="z">{{_("Skip for now")}} <kbd class="key" aria-hidden="true">z</kbd></button>
        </p>
      </section>

      <section class="card console-call" aria-labelledby="call-title">
        <h2 id="call-title">{{_("Call controls")}} <span id="call-state" class="muted"></span></h2>
        <div class="actions console-actions">
          <button class="btn btn-ghost" type="button" data-action="hold" data-key="h">{{_("Hold")}} <kbd class="key" aria-hidden="true">h</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="resume" data-key="u">{{_("Resume")}} <kbd class="key" aria-hidden="true">u</kbd></button>
          <button class="btn btn-warn" type="button" data-action="hangup" data-key="x">{{_("Hang up")}} <kbd class="key" aria-hidden="true">x</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="record" data-key="e">{{_("Record")}} <kbd class="key" aria-hidden="true">e</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="pause_recording" data-key="p" id="pause-recording">{{_("Pause recording")}} <kbd class="key" aria-hidden="true">p</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="resume_recording" data-key="l">{{_("Resume recording")}} <kbd class="key" aria-hidden="true">l</kbd></button>
        </div>
        <div class="transfer">
          <label class="field"><span>{{_("Transfer or conference to")}} <kbd class="key" aria-hidden="true">g</kbd></span>
            <select id="target" data-key="g" aria-describedby="target-hint"></select></label>
          <label class="field"><span>{{_("or a number")}}</span>
            <input id="target-number" type="tel" inputmode="tel" maxlength="20" autocomplete="off"></label>
          <p class="hint" id="target-hint">{{_("Enter in either field makes a blind transfer.")}}</p>
        </div>
        <div class="actions console-actions">
          <button class="btn btn-primary" type="button" data-action="transfer" data-key="t">{{_("Blind transfer")}} <kbd class="key" aria-hidden="true">t</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="consult" data-key="a">{{_("Consult first")}} <kbd class="key" aria-hidden="true">a</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="transfer_complete" data-key="k">{{_("Complete transfer")}} <kbd class="key" aria-hidden="true">k</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="transfer_cancel" data-key="c">{{_("Cancel consultation")}} <kbd class="key" aria-hidden="true">c</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="conference" data-key="f">{{_("Conference")}} <kbd class="key" aria-hidden="true">f</kbd></button>
          <button class="btn btn-ghost" type="button" data-action="survey" data-key="v" title="{{_("The caller answers the queue's post-call survey; you go to wrap-up.")}}">{{_("To survey")}} <kbd class="key" aria-hidden="true">v</kbd></button>
        </div>
        <form class="inline-form dial" id="dial-form">
          <label class="field"><span>{{_("Call a number")}} <kbd class="key" aria-hidden="true">d</kbd></span>
            <input id="dial-number" type="tel" inputmode="tel" maxlength="20" autocomplete="off" data-key="d"></label>
          <button class="btn btn-ghost" type="submit">{{_("Dial")}}</button>
        </form>
        <form class="inline-form wrapup" id="wrapup-form">
          <label class="field"><span>{{_("Wrap-up code")}} <kbd class="key" aria-hidden="true">w</kbd></span>
            <select id="wrapup-code" data-key="w">
              % for code, label in wrapup_codes.items():
              <option value="{{code}}">{{_(label)}}</option>
              % end
            </select></label>
          <button class="btn btn-ok" type="submit">{{_("Save code")}}</button>
          <span id="wrapup-saved" class="muted" role="status"></span>
        </form>
        <p class="action-error" id="my-error" role="alert"></p>
      </section>
    </div>

    <aside class="console-side">
      <section class="card today" aria-labelledby="today-title">
        <h2 id="today-title">{{_("Your day")}}</h2>
        <dl class="facts">
          <dt>{{_("Calls")}}</dt><dd id="today-calls">{{fmt.NONE}}</dd>
          <dt>{{_("Average handling time")}}</dt><dd id="today-aht">{{fmt.NONE}}</dd>
          <dt>{{_("Not ready")}}</dt><dd id="today-not-ready">{{fmt.NONE}}</dd>
        </dl>
      </section>
      <section class="card kb-side" data-key="s" data-focus="input[type=search]" aria-label="{{_("Search the knowledge base")}}">
        % include('kb_search_box', box_id='console')
      </section>
    </aside>
  </div>

  <dialog id="keys-help" class="keys-help" aria-labelledby="keys-help-title">
    <h2 id="keys-help-title">{{_("Keyboard shortcuts")}}</h2>
    <p class="hint">{{_("Single keys work when the cursor is not in a text field; Esc leaves the field.")}}</p>
    <dl id="keys-help-list" class="facts"></dl>
    <form method="dialog"><button class="btn btn-primary" type="submit">{{_("Close")}}</button></form>
  </dialog>
  % end
</div>
