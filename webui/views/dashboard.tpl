% rebase('layout', main_class='page page-wide')
<div id="dashboard" class="dashboard" data-can-control="{{'1' if can_control else '0'}}"
     data-service-target="{{service_target}}">
  <div id="engine-banner" class="banner" role="alert" hidden></div>
  <div class="boxline" id="boxline">Connecting to the engine…</div>
  <noscript><p class="banner">The dashboard needs JavaScript to show live data.</p></noscript>

  <section class="tiles" aria-label="Summary">
    <div class="tile" id="t-waiting"><div class="tile-label">Calls waiting</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-longest"><div class="tile-label">Longest wait</div><div class="tile-value">–</div><div class="tile-sub">target {{service_target}} s</div></div>
    <div class="tile" id="t-ready"><div class="tile-label">Agents ready</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-busy"><div class="tile-label">Agents busy</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-notready"><div class="tile-label">Not ready</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-lines"><div class="tile-label">Lines in use</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
    <div class="tile" id="t-tick"><div class="tile-label">Tick p99</div><div class="tile-value">–</div><div class="tile-sub"></div></div>
  </section>

  <div class="board">
    <section class="panel area-waiting">
      <h2>Waiting calls <span class="count" id="n-waiting"></span></h2>
      <div class="table-wrap">
        <table class="table" id="waiting">
          <thead><tr><th>Caller</th><th>Queue</th><th>State</th><th class="num">Wait</th></tr></thead>
          <tbody data-empty="No callers waiting."></tbody>
        </table>
      </div>
    </section>
    <section class="panel area-queues">
      <h2>Queues</h2>
      <div class="table-wrap">
        <table class="table" id="queues">
          <thead><tr><th>Queue</th><th class="num">Waiting</th><th class="num">Longest</th>
            <th class="num" title="ready / logged in">Ready</th><th class="num">Busy</th>
            <th class="num">Offered</th><th class="num">Answered</th><th class="num">Abandoned</th></tr></thead>
          <tbody data-empty="No queues configured."></tbody>
        </table>
      </div>
    </section>
    <section class="panel area-agents">
      <h2>Agents <span class="count" id="n-agents"></span></h2>
      <div class="table-wrap">
        <table class="table" id="agents">
          <thead><tr><th>Agent</th><th>State</th><th class="num">In state</th><th>Call</th>
            <th class="opt">Queues</th><th class="num opt">Calls</th>
            <th class="num opt">Talk</th>
            % if can_control:
            <th class="actions-col">Actions</th>
            % end
          </tr></thead>
          <tbody data-empty="No agents configured."></tbody>
        </table>
      </div>
    </section>
    <section class="panel area-lines">
      <h2>Lines <span class="count" id="n-lines"></span></h2>
      <div class="table-wrap">
        <table class="table" id="lines">
          <thead><tr><th class="num">Ch</th><th>Line</th><th>Kind</th><th>State</th><th>Number</th>
            <th class="num">Since</th></tr></thead>
          <tbody data-empty="No lines found."></tbody>
        </table>
      </div>
    </section>
  </div>
  % if can_control:
  <template id="reason-select">
    <select class="reason" aria-label="Not-ready reason">
      % for reason in reasons:
      <option value="{{reason}}">{{reason}}</option>
      % end
    </select>
  </template>
  % end
</div>
