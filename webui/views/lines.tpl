% rebase('layout', main_class='page page-wide')
<div id="lines-page" class="lines-page">
  <div class="page-head">
    <h1>{{_("Lines")}}</h1>
    <p class="crumbs">{{_("Every line's driver, device, state and counters, live. Test line takes an idle line off-hook and listens for dial tone; Digits shows the keys the line hears as they come.")}}</p>
  </div>
  <div id="engine-banner" class="banner" role="alert" hidden></div>
  <div id="worker-alarm" class="banner" role="alert" hidden></div>
  <div class="boxline" id="boxline">{{_("Connecting to the engine…")}}</div>
  <noscript><p class="banner">{{_("This page needs JavaScript to show live data.")}}</p></noscript>

  <section class="panel board-lines">
    <h2>{{_("Lines")}} <span class="count" id="n-lines"></span></h2>
    <div class="table-wrap">
      <table class="table" id="tech-lines">
        <thead><tr><th>{{_("Line")}}</th><th>{{_("Driver / device")}}</th><th>{{_("State")}}</th><th>{{_("Alarm")}}</th>
          <th>{{_("Last caller ID")}}</th><th class="num">{{pgettext("count", "Calls")}}</th>
          <th class="num" title="{{_("calls ended because the far end's exchange played its busy or congestion tone, or the line fell silent")}}">{{_("Heard hang-ups")}}</th>
          <th class="num" title="{{_("DTMF digits the box heard on the line")}}">{{_("DTMF")}}</th>
          <th class="num" title="{{_("modem resets or PCM reopens")}}">{{_("Resets")}}</th><th class="num">{{_("Overruns")}}</th>
          <th data-column="test">{{_("Line test")}}</th><th class="actions-col">{{_("Actions")}}</th></tr></thead>
        <tbody data-empty="{{_("No lines found.")}}"></tbody>
      </table>
    </div>
  </section>

  <section class="panel" id="trunk-groups" hidden>
    <h2>{{_("Trunk groups")}}</h2>
    <p class="crumbs">{{_("Trunks each group holds now. A group's guaranteed trunks are lent to the others while it does not use them and come back to it as their calls end; no group holds more than its cap. Settings: Configuration, Trunk groups.")}}</p>
    <div class="table-wrap">
      <table class="table" id="trunk-group-table">
        <thead><tr><th>{{_("Group")}}</th><th class="num">{{_("In use")}}</th><th class="num">{{_("Guaranteed")}}</th>
          <th class="num">{{_("Cap")}}</th><th class="num" title="{{_("trunks in use above the group's guaranteed share")}}">{{_("Borrowed")}}</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section class="panel" id="engine-workers">
    <h2>{{_("Engine workers")}}</h2>
    <p class="crumbs">{{_("The threads that write the call records, the queue journal and the recordings. A worker waiting on another program's database lock or a full card keeps every record in memory until it can write; a stopped or stuck worker is a fault, and systemd restarts the engine.")}}</p>
    <div class="table-wrap">
      <table class="table" id="workers">
        <thead><tr><th>{{_("Worker")}}</th><th>{{_("State")}}</th><th>{{_("Detail")}}</th>
          <th class="num">{{_("Waiting to be written")}}</th>
          <th class="num" title="{{_("rows the database refused for their content, kept in the dead-letter file")}}">{{_("Set aside")}}</th>
          <th class="num">{{_("Errors")}}</th></tr></thead>
        <tbody data-empty="{{_("The engine reported no workers.")}}"></tbody>
      </table>
    </div>
  </section>

  <section class="panel" id="hq-sync">
    <h2>{{_("HQ sync")}}</h2>
    <p class="crumbs" id="hq-summary">{{_("Reading what head office has taken…")}}</p>
    <div class="table-wrap">
      <table class="table" id="hq-tokens">
        <thead><tr><th>{{_("HQ token")}}</th><th>{{_("Created")}}</th><th class="num">{{_("Taken up to")}}</th>
          <th>{{_("Last acknowledged")}}</th><th>{{_("From address")}}</th><th>{{_("Revoked")}}</th></tr></thead>
        <tbody data-empty="{{_("No HQ token: head office cannot pull yet (an admin creates one).")}}"></tbody>
      </table>
    </div>
  </section>
</div>
