% rebase('layout', main_class='page page-wide')
<div id="lines-page" class="lines-page">
  <div class="page-head">
    <h1>Lines</h1>
    <p class="crumbs">Every line's driver, device, state and counters, live. <b>Test line</b> takes an idle
      line off-hook and listens for dial tone; <b>Digits</b> shows the keys the line hears as they come.</p>
  </div>
  <div id="engine-banner" class="banner" role="alert" hidden></div>
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
