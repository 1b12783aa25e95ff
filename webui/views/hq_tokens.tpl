% rebase('layout', main_class='page page-wide')
<div id="hq-tokens-page"
     data-msg-none="{{_("No HQ token yet: head office cannot pull this box's records until you create one.")}}"
     data-msg-never="{{_("never")}}"
     data-msg-active="{{_("active")}}"
     data-msg-revoke="{{_("Revoke")}}"
     data-msg-confirm="{{_("Revoke the HQ token %(name)s? Head office's next pull with it is refused; this cannot be undone.")}}"
     data-msg-copied="{{_("Copied.")}}"
     data-msg-copy-failed="{{_("Select the token and copy it by hand.")}}"
     data-msg-unreachable="{{_("The web server is not answering.")}}">
  <div class="page-head">
    <h1>{{_("HQ tokens")}}</h1>
    <p class="crumbs">{{_("Head office pulls this box's records and recordings with a token. Give each HQ collector its own token, so one can be revoked without stopping the others. The box keeps only a fingerprint of each token: it is shown once, when it is created.")}}</p>
  </div>
  <p id="page-error" class="form-error" role="alert" hidden></p>

  <section class="panel">
    <h2>{{_("New token")}}</h2>
    <form id="create-token" class="filters" novalidate>
      <label class="field field-sm">
        <span>{{_("Name (who uses it)")}}</span>
        <input name="name" id="token-name" maxlength="64" required placeholder="{{_("e.g. HQ collector Shanghai")}}">
        <span class="field-error" id="name-error" role="alert"></span>
      </label>
      <div class="filter-buttons"><button class="btn btn-primary" type="submit">{{_("Create token")}}</button></div>
    </form>
    <div id="new-token" class="notice" role="status" hidden>
      <p><strong>{{_("Copy this token now and give it to head office. It is shown this once: the box cannot show it again.")}}</strong></p>
      <p class="kv"><span class="k" id="new-token-name"></span>
        <input id="new-token-value" class="mono" readonly size="60" aria-label="{{_("The new token")}}">
        <button class="btn btn-sm" type="button" id="copy-token">{{_("Copy")}}</button>
        <span id="copy-result" class="sub" role="status"></span></p>
      <p><button class="btn btn-ghost btn-sm" type="button" id="hide-token">{{_("I have copied it: hide it")}}</button></p>
    </div>
  </section>

  <section class="panel">
    <h2>{{_("Tokens")}} <span class="count" id="n-tokens"></span></h2>
    <div class="table-wrap">
      <table class="table" id="tokens">
        <thead><tr><th>{{_("Name")}}</th><th>{{_("Created")}}</th><th>{{_("By")}}</th>
          <th class="num">{{_("Acknowledged up to change")}}</th><th>{{_("Last acknowledged")}}</th><th>{{pgettext("address", "From")}}</th>
          <th>{{_("Revoked")}}</th><th class="actions-col">{{_("Actions")}}</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>
</div>
