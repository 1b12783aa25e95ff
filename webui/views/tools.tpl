% rebase('layout', main_class='page page-wide')
<div id="tools-page"
     data-msg-unreachable="{{_("The web server is not answering.")}}"
     data-msg-idle="{{_("No load test is running.")}}"
     data-msg-running="{{_("Running: %(callers)s virtual callers, %(agents)s virtual agents, until %(until)s.")}}"
     data-msg-stopping="{{_("Stopping: closing the run's records.")}}"
     data-msg-ended="{{_("Last run ended at %(at)s: %(reason)s.")}}"
     data-msg-confirm-stop="{{_("Stop the load test now? Its calls in progress end at once.")}}"
     data-msg-no-log="{{_("No log file yet: the process has not written one (it logs to the journal too).")}}"
     data-msg-no-entries="{{_("No entry at this level in the newest lines.")}}">
  <div class="page-head">
    <h1>{{_("Tools")}}</h1>
    <p class="crumbs">{{_("A load test of the live box, and the engine's and the web's logs. Line tests are on the Lines page.")}}</p>
  </div>

  <section class="panel" id="loadtest">
    <h2>{{_("Load test")}}</h2>
    <p class="crumbs">{{_("Virtual callers ring the box on virtual lines, go through the IVR flow and the queues running now, and are answered by virtual agents on virtual stations. No real line, phone or agent is used, and the calls are kept in the run's own records, never in the box's or HQ's. The test stops itself if the box's ticks slow down too much, and a start above what the box can carry beside its real calls is refused.")}}</p>
    <p class="form-error" id="loadtest-error" role="alert" hidden></p>
    <form id="loadtest-form" class="filters" novalidate>
      <label class="field field-sm"><span>{{_("Callers at once")}}</span>
        <input name="callers" type="number" min="1" step="1" value="10" required>
        <span class="hint" id="callers-limit"></span></label>
      <label class="field field-sm"><span>{{_("Duration (s)")}}</span>
        <input name="duration" type="number" min="10" max="3600" step="1" value="300" required></label>
      <label class="field field-sm"><span>{{_("Virtual agents")}}</span>
        <input name="agents" type="number" min="0" step="1" value="10"></label>
      <label class="field field-sm"><span>{{_("Talk time (s)")}}</span>
        <input name="talk" type="number" min="1" max="600" step="1" value="30"></label>
      <label class="field field-sm"><span>{{_("Keys pressed (one choice per caller in turn)")}}</span>
        <input name="keys" value="1 2" maxlength="64"></label>
      <div class="filter-buttons">
        <button class="btn btn-primary" type="submit" id="loadtest-start">{{_("Start")}}</button>
        <button class="btn btn-warn" type="button" id="loadtest-stop" hidden>{{_("Stop")}}</button>
      </div>
    </form>
    <p class="boxline" id="loadtest-state">{{_("Connecting to the engine…")}}</p>
    <div class="tiles" id="loadtest-figures">
      <div class="tile"><div class="tile-label">{{_("Offered")}}</div><div class="tile-value" data-fig="offered">—</div></div>
      <div class="tile"><div class="tile-label">{{_("Answered by the box")}}</div><div class="tile-value" data-fig="answered">—</div></div>
      <div class="tile"><div class="tile-label">{{_("Answered by an agent")}}</div><div class="tile-value" data-fig="connected">—</div></div>
      <div class="tile"><div class="tile-label">{{_("Waiting in queue")}}</div><div class="tile-value" data-fig="waiting">—</div></div>
      <div class="tile"><div class="tile-label">{{_("Abandoned")}}</div><div class="tile-value" data-fig="abandoned">—</div></div>
      <div class="tile"><div class="tile-label">{{_("Tick p99 (ms)")}}</div><div class="tile-value" data-fig="p99_ms">—</div></div>
      <div class="tile"><div class="tile-label">{{_("Worst p99 (ms)")}}</div><div class="tile-value" data-fig="p99_max_ms">—</div></div>
      <div class="tile"><div class="tile-label">{{_("Overruns")}}</div><div class="tile-value" data-fig="overruns">—</div></div>
    </div>
  </section>

  <section class="panel" id="logs">
    <h2>{{_("Logs")}}</h2>
    <form id="log-form" class="filters">
      <label class="field field-sm"><span>{{_("Process")}}</span>
        <select name="process"><option value="engine">{{_("Engine")}}</option><option value="web">{{_("Web")}}</option></select></label>
      <label class="field field-sm"><span>{{_("Level and above")}}</span>
        <select name="level">
        % for level in levels:
          <option value="{{level}}" {{!'selected' if level == 'INFO' else ''}}>{{level}}</option>
        % end
        </select></label>
      <label class="field field-sm"><span>{{_("Lines")}}</span>
        <input name="lines" type="number" min="1" max="{{max_lines}}" value="{{default_lines}}"></label>
      <label class="field field-sm"><span>{{_("Refresh every 2 s")}}</span>
        <input name="follow" type="checkbox" checked></label>
    </form>
    <p class="crumbs" id="log-file"></p>
    <p class="form-error" id="log-error" role="alert" hidden></p>
    <div class="table-wrap">
      <table class="table" id="log-entries">
        <thead><tr><th>{{_("Time")}}</th><th>{{_("Level")}}</th><th>{{_("Source")}}</th><th>{{_("Message")}}</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
</div>
