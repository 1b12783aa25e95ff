% rebase('layout', main_class='page')
<div id="console" class="console" data-agent="{{agent_id or ''}}" data-labels="{{labels_json}}"
     data-down="{{_("The engine is not answering; this is the last state it gave.")}}">
  <div class="page-head">
    <h1>{{_("Your console")}}</h1>
    <p class="crumbs">{{_("Agent %(agent)s") % {"agent": agent_id or fmt.NONE} }}
    % if agent and agent.get('name'):
      · {{agent['name']}}
    % end
    </p>
  </div>
  <div id="engine-banner" class="banner" role="alert" {{!'' if problem else 'hidden'}}>{{problem or ''}}</div>
  % if agent_id:
  <section class="card agent-card">
    <dl class="facts">
      <dt>{{_("Agent id")}}</dt><dd class="mono" id="my-agent-id">{{agent_id}}</dd>
      <dt>{{_("State")}}</dt>
      <dd><span id="my-state" class="st st-{{agent['state'] if agent else 'idle'}}">{{labels.get(agent['state'], agent['state']) if agent else fmt.NONE}}</span>
        <span id="my-reason" class="muted">{{(agent or {}).get('reason') or ''}}</span></dd>
      <dt>{{_("Since")}}</dt><dd id="my-since">{{fmt.clock(agent.get('since')) if agent else fmt.NONE}}</dd>
      <dt>{{_("Station")}}</dt><dd id="my-station">{{(agent or {}).get('station') or fmt.NONE}}</dd>
      <dt>{{_("Queues")}}</dt><dd id="my-queues">{{", ".join((agent or {}).get('queues') or []) or fmt.NONE}}</dd>
      <dt>{{_("On a call with")}}</dt><dd id="my-call" class="mono">{{(agent or {}).get('number') or fmt.NONE}}</dd>
      <dt>{{_("Calls taken")}}</dt><dd id="my-calls">{{(agent or {}).get('calls', fmt.NONE)}}</dd>
    </dl>
    <div class="actions console-actions">
      <button class="btn btn-primary" type="button" data-action="login">{{_("Log in")}}</button>
      <button class="btn btn-ok" type="button" data-action="ready">{{_("Ready")}}</button>
      <select class="reason" id="my-reason-choice" aria-label="{{_("Not-ready reason")}}">
        % for reason in reasons:
        <option value="{{reason}}">{{_(reason)}}</option>
        % end
      </select>
      <button class="btn btn-warn" type="button" data-action="not_ready">{{_("Not ready")}}</button>
      <button class="btn btn-ghost" type="button" data-action="logout">{{_("Log out")}}</button>
    </div>
    <p class="action-error" id="my-error" role="alert"></p>
  </section>
  % end
  <section class="card">
    % include('kb_search_box', box_id='console')
  </section>
</div>
