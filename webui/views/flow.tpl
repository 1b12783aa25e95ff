% rebase('layout')
<div id="flow-editor" class="flow-editor" data-name="{{flow_name}}" data-exists="{{'1' if exists else '0'}}"
     data-max-text="{{max_text}}" data-max-upload="{{max_upload}}">
  <div class="page-head">
    <h1><a href="/flows">{{_("Flows")}}</a> / <span class="mono">{{flow_name}}</span>
      <span class="st st-live" id="running-badge" hidden>{{_("running")}}</span></h1>
    <p class="crumbs">{{_("Edit the flow as text: it is checked as you type, each problem shown next to its line and on the graph. Saving checks it once more, keeps the previous version on the box and, for the running flow, swaps it in: new calls take it, calls in the IVR finish on the one they started.")}}</p>
  </div>
  <div id="flow-banner" class="banner" role="alert" hidden></div>
  <noscript><p class="banner">{{_("The flow editor needs JavaScript.")}}</p></noscript>

  <div class="flow-grid">
    <section class="panel flow-text-panel">
      <h2>{{_("Flow text")}} <span class="count" id="flow-verdict" aria-live="polite"></span></h2>
      <div class="code-box">
        <pre class="gutter" id="flow-gutter" aria-hidden="true"></pre>
        <textarea id="flow-text" spellcheck="false" autocomplete="off" wrap="off"
                  aria-label="{{_('Flow text (TOML)')}}" maxlength="{{max_text}}"></textarea>
      </div>
      <div class="flow-actions">
        <button class="btn btn-primary" id="flow-save" type="button" disabled>{{_("Save")}}</button>
        <button class="btn btn-ghost" id="flow-revert" type="button" disabled>{{_("Undo my changes")}}</button>
        <button class="btn btn-ghost" id="flow-previous" type="button"
                title="{{_('Put the version the last save replaced into the editor; it is saved only when you save it.')}}">{{_("Previous version")}}</button>
        <span class="muted" id="flow-saved" aria-live="polite"></span>
      </div>
      <ol class="problems" id="flow-problems" aria-live="polite"></ol>
      <div class="node-help" id="node-help" hidden>
        <h3 id="node-help-title"></h3>
        <table class="table">
          <thead><tr><th>{{_("Key")}}</th><th>{{_("Kind")}}</th><th>{{_("Default or limits")}}</th><th>{{_("Meaning")}}</th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </section>

    <section class="panel flow-graph-panel">
      <h2>{{_("Graph")}}</h2>
      <p class="crumbs legend">
        <span class="lg lg-start">{{_("start")}}</span>
        <span class="lg lg-problem">{{_("has a problem")}}</span>
        <span class="lg lg-unreachable">{{_("unreachable")}}</span>
        <span class="lg lg-missing">{{_("missing node")}}</span>
      </p>
      <div class="graph-box" id="flow-graph" role="img" aria-label="{{_('The flow drawn as a graph')}}"></div>
    </section>
  </div>

  <section class="panel">
    <h2>{{_("Prompts this flow plays")}}</h2>
    <div class="table-wrap">
      <table class="table" id="flow-prompts">
        <thead><tr><th>{{_("Prompt")}}</th><th>{{_("Played by")}}</th><th>{{_("Recording")}}</th><th></th></tr></thead>
        <tbody data-empty="{{_('This flow plays no recorded prompt.')}}"></tbody>
      </table>
    </div>
    <details class="all-prompts">
      <summary>{{_("Every prompt on this box (names a flow may use)")}} <span class="count" id="all-prompts-count"></span></summary>
      <div class="table-wrap">
        <table class="table" id="all-prompts">
          <thead><tr><th>{{_("Prompt")}}</th><th>{{_("Recording")}}</th><th></th></tr></thead>
          <tbody></tbody>
        </table>
      </div>
    </details>
    <form class="upload" id="prompt-upload" enctype="multipart/form-data">
      <h3>{{_("Upload a recording")}}</h3>
      <p class="crumbs">{{_("A WAV file of any common rate, sample size and channels, up to %(mb)d MB. The box converts it to 8 kHz mono 16-bit, refuses it if it is silent or clipped, and tells its level against the nominal -19 dBm0. A recording with the name of a stock prompt replaces it on this box.") % dict(mb=max_upload // 2 ** 20)}}</p>
      <label class="field field-sm"><span>{{_("Prompt name")}}</span>
        <input name="name" id="prompt-name" required pattern="[a-z0-9][a-z0-9_\-]{0,63}" placeholder="welcome"></label>
      <label class="field field-sm"><span>{{_("WAV file")}}</span>
        <input type="file" name="file" id="prompt-file" accept=".wav,audio/wav,audio/x-wav" required></label>
      <button class="btn btn-ghost btn-sm" type="submit">{{_("Upload")}}</button>
      <p id="prompt-result" class="upload-result" aria-live="polite"></p>
    </form>
  </section>
</div>
% # The strings flows.js shows, translated here (the page runs no inline script: they travel as data).
<template id="flow-strings"
  data-valid="{{_('valid')}}" data-problem="{{ngettext('%(n)d problem', '%(n)d problems', 1)}}"
  data-problems="{{ngettext('%(n)d problem', '%(n)d problems', 2)}}" data-checking="{{_('checking…')}}"
  data-saved="{{_('Saved.')}}" data-swapped="{{_('Saved; the running flow was swapped in.')}}"
  data-stale="{{_('The flow was changed on the box since you opened it. Copy your text, reload the page and make your change again.')}}"
  data-unsaved="{{_('unsaved changes')}}" data-flow="{{_('the flow')}}" data-line="{{_('line')}}"
  data-play="{{_('Play')}}" data-own="{{_('this box')}}" data-stock="{{_('stock')}}" data-missing="{{_('missing')}}"
  data-uploaded="{{_('Taken: %(seconds)s s, active level %(level)s dBm0 (%(dbov)s dBov).')}}"
  data-quiet="{{_('It is quieter than the other prompts; callers may find it faint.')}}"
  data-loud="{{_('It is louder than the other prompts.')}}"
  data-engine="{{_('The engine is not reachable: the flow cannot be checked or saved now.')}}"
  data-new="{{_('A new flow: write it and save.')}}"
  data-previous="{{_('The previous version is in the editor: save it to put it back.')}}"
  data-no-previous="{{_('There is no previous version of this flow on the box.')}}"
  data-keys-of="{{_('Keys of a %(type)s node')}}" data-required="{{_('required')}}"
  data-types="{{_('Node types: %(types)s. Put the cursor in a node to see its keys.')}}"></template>
