% rebase('layout', main_class='page page-wide')
<div id="lines-page" class="lines-page">
  <div class="page-head">
    <h1>Lines</h1>
    <p class="crumbs">Every line's driver, device, state and counters, live. <b>Test line</b> takes an idle
      line off-hook and listens for dial tone; <b>Digits</b> shows the keys the line hears as they come.</p>
  </div>
  <div id="engine-banner" class="banner" role="alert" hidden></div>
  <div id="worker-alarm" class="banner" role="alert" hidden></div>
  <div class="boxline" id="boxline">Connecting to the engine…</div>
  <noscript><p class="banner">This page needs JavaScript to show live data.</p></noscript>

  <section class="panel board-lines">
    <h2>Lines <span class="count" id="n-lines"></span></h2>
    <div class="table-wrap">
      <table class="table" id="tech-lines">
        <thead><tr><th>Line</th><th>Driver / device</th><th>State</th><th>Alarm</th><th>Last caller ID</th>
          <th class="num">Calls</th><th class="num" title="DTMF digits the box heard on the line">DTMF</th>
          <th class="num" title="modem resets or PCM reopens">Resets</th><th class="num">Overruns</th>
          <th>Line test</th><th class="actions-col">Actions</th></tr></thead>
        <tbody data-empty="No lines found."></tbody>
      </table>
    </div>
  </section>

  <section class="panel" id="engine-workers">
    <h2>Engine workers</h2>
    <p class="crumbs">The threads that write the call records, the queue journal and the recordings. A worker
      waiting on another program's database lock or a full card keeps every record in memory until it can
      write; a stopped or stuck worker is a fault, and systemd restarts the engine.</p>
    <div class="table-wrap">
      <table class="table" id="workers">
        <thead><tr><th>Worker</th><th>State</th><th>Detail</th><th class="num">Waiting to be written</th>
          <th class="num" title="rows the database refused for their content, kept in the dead-letter file">Set aside</th>
          <th class="num">Errors</th></tr></thead>
        <tbody data-empty="The engine reported no workers."></tbody>
      </table>
    </div>
  </section>

  <section class="panel" id="hq-sync">
    <h2>HQ sync</h2>
    <p class="crumbs" id="hq-summary">Reading what head office has taken…</p>
    <div class="table-wrap">
      <table class="table" id="hq-tokens">
        <thead><tr><th>HQ token</th><th>Created</th><th class="num">Taken up to</th><th>Last acknowledged</th>
          <th>From</th><th>Revoked</th></tr></thead>
        <tbody data-empty="No HQ token: head office cannot pull yet (an admin creates one)."></tbody>
      </table>
    </div>
  </section>
</div>
