% import json
% rebase('layout', main_class='page page-wide')
<div id="dashboard" class="dashboard" data-can-control="{{'1' if can_control else '0'}}"
     data-service-target="{{service_target}}" data-reasons="{{json.dumps({reason: _(reason) for reason in reasons}, ensure_ascii=False)}}">
  <div id="engine-banner" class="banner" role="alert" hidden></div>
  <div class="boxline" id="boxline">{{_("Connecting to the engine…")}}</div>
  <noscript><p class="banner">{{_("The dashboard needs JavaScript to show live data.")}}</p></noscript>

  <section class="tiles" aria-label="{{_("Summary")}}">
    <div class="tile" id="t-waiting"><div class="tile-label">{{_("Calls waiting")}}</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-longest"><div class="tile-label">{{_("Longest wait")}}</div><div class="tile-value">–</div><div class="tile-sub">{{_("target %(seconds)s s") % {'seconds': fmt.number(service_target)} }}</div></div>
    <div class="tile" id="t-ready"><div class="tile-label">{{_("Agents ready")}}</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-busy"><div class="tile-label">{{_("Agents busy")}}</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-notready"><div class="tile-label">{{_("Not ready")}}</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-lines"><div class="tile-label">{{_("Lines in use")}}</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-tick"><div class="tile-label">{{_("Tick p99")}}</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
  </section>

  <div class="board">
    <section class="panel area-waiting">
      <h2>{{_("Waiting calls")}} <span class="count" id="n-waiting"></span></h2>
      <div class="table-wrap">
        <table class="table" id="waiting">
          <thead><tr><th>{{_("Caller")}}</th><th>{{_("Queue")}}</th><th>{{_("State")}}</th><th class="num">{{_("Wait")}}</th></tr></thead>
          <tbody data-empty="{{_("No callers waiting.")}}"></tbody>
        </table>
      </div>
    </section>
    <section class="panel area-queues">
      <h2>{{_("Queues")}}</h2>
      <div class="table-wrap">
        <table class="table" id="queues">
          <thead><tr><th>{{_("Queue")}}</th><th class="num">{{pgettext("count", "Waiting")}}</th><th class="num">{{_("Longest")}}</th>
            <th class="num" title="{{_("ready / logged in")}}">{{_("Ready")}}</th><th class="num">{{pgettext("count", "Busy")}}</th>
            <th class="num">{{_("Offered")}}</th><th class="num">{{pgettext("count", "Answered")}}</th><th class="num">{{pgettext("count", "Abandoned")}}</th></tr></thead>
          <tbody data-empty="{{_("No queues configured.")}}"></tbody>
        </table>
      </div>
    </section>
    <section class="panel area-agents">
      <h2>{{_("Agents")}} <span class="count" id="n-agents"></span></h2>
      <div class="table-wrap">
        <table class="table" id="agents">
          <thead><tr><th>{{_("Agent")}}</th><th>{{_("State")}}</th><th class="num">{{_("In state")}}</th><th>{{_("Call")}}</th>
            <th class="opt">{{_("Queues")}}</th><th class="num opt">{{pgettext("count", "Calls")}}</th>
            <th class="num opt">{{_("Talk")}}</th>
            % if can_control:
            <th class="actions-col">{{_("Actions")}}</th>
            % end
          </tr></thead>
          <tbody data-empty="{{_("No agents configured.")}}"></tbody>
        </table>
      </div>
    </section>
    <section class="panel area-lines">
      <h2>{{_("Lines")}} <span class="count" id="n-lines"></span></h2>
      <div class="table-wrap">
        <table class="table" id="lines">
          <thead><tr><th class="num" title="{{_("Channel")}}">{{_("Ch")}}</th><th>{{_("Line")}}</th><th>{{_("Kind")}}</th><th>{{_("State")}}</th><th>{{_("Number")}}</th>
            <th class="num">{{_("Since")}}</th></tr></thead>
          <tbody data-empty="{{_("No lines found.")}}"></tbody>
        </table>
      </div>
    </section>
  </div>
  % if can_control:
  <template id="reason-select">
    <select class="reason" aria-label="{{_("Not-ready reason")}}">
      % for reason in reasons:
      <option value="{{reason}}">{{_(reason)}}</option>
      % end
    </select>
  </template>
  % end
</div>
